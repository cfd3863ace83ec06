# run from the repository's top directory: gnuplot results/plots/throughput-tls.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/throughput-tls.svg'
$d << EOD
"fork" 128.666666666667 125.0
"pool" 1277.66666666667 2752.0
"event" 1129.0 2788.0
"nginx (ref)" 1268.33333333333 3429.33333333333
"nginx-per-core (ref)" 1208.0 3426.66666666667
EOD
set title 'TLS greetings/s, bare greeting, -c 100: full and resumed handshakes'
set ylabel 'greetings/s (median)'
set yrange [0:*]
set format y '%.0f'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside right top
plot $d using 2:xtic(1) title 'full handshakes' lc rgb '#d62728', $d using 3 title 'resumed sessions' lc rgb '#1f77b4'
set terminal pngcairo size 900,560 enhanced font 'Helvetica,11'
set output 'results/plots/throughput-tls.png'
replot
set output
