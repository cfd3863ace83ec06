# run from the repository's top directory: gnuplot results/plots/throughput-tls.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/throughput-tls.svg'
$d << EOD
"fork" 98.6666666666667 109.0
"pool" 1211.33333333333 1895.0
"event" 1196.33333333333 2229.0
"nginx (ref)" 1161.66666666667 2453.66666666667
"nginx-per-core (ref)" 1193.33333333333 2422.33333333333
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
