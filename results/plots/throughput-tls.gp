# run from the repository's top directory: gnuplot results/plots/throughput-tls.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/throughput-tls.svg'
$d << EOD
"fork" 131.0 127.666666666667
"pool" 1227.66666666667 2946.66666666667
"event" 1286.66666666667 3113.33333333333
"nginx (ref)" 1425.66666666667 2521.33333333333
"nginx-per-core (ref)" 1252.0 3094.0
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
