# run from the repository's top directory: gnuplot results/plots/throughput-sleep1ms.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/throughput-sleep1ms.svg'
$m0 << EOD
10 854.333333333333
100 853.0
1000 544.666666666667
EOD
$m1 << EOD
10 469.666666666667
100 491.0
1000 170.0
EOD
$m2 << EOD
10 6813.66666666667
100 6866.0
1000 6508.0
EOD
$m3 << EOD
10 6369.0
100 14563.0
1000 11659.0
EOD
$m4 << EOD
10 6805.0
100 6863.0
1000 6633.33333333333
EOD
$m5 << EOD
10 7502.0
100 21241.3333333333
1000 21096.3333333333
EOD
$m6 << EOD
10 7034.0
100 28922.3333333333
1000 28622.6666666667
EOD
set title 'Greetings/s vs concurrency, 1 ms sleep work'
set xlabel 'concurrent connections (loadgen -c)'
set ylabel 'greetings/s (median)'
set logscale x
set xtics (10, 100, 1000)
set xrange [6.66667:1500]
set key outside right top
set grid
set yrange [0:*]
set format y '%.0f'

plot $m0 using 1:2 with linespoints lw 2 lc rgb '#000000' pt 4 ps 1.2 title 'iterative', $m1 using 1:2 with linespoints lw 2 lc rgb '#d62728' pt 5 ps 1.2 title 'fork', $m2 using 1:2 with linespoints lw 2 lc rgb '#ff7f0e' pt 6 ps 1.2 title 'prefork', $m3 using 1:2 with linespoints lw 2 lc rgb '#2ca02c' pt 7 ps 1.2 title 'thread', $m4 using 1:2 with linespoints lw 2 lc rgb '#1f77b4' pt 8 ps 1.2 title 'pool', $m5 using 1:2 with linespoints lw 2 lc rgb '#17becf' pt 9 ps 1.2 title 'pool-256', $m6 using 1:2 with linespoints lw 2 lc rgb '#9467bd' pt 10 ps 1.2 title 'event'
set terminal pngcairo size 900,560 enhanced font 'Helvetica,11'
set output 'results/plots/throughput-sleep1ms.png'
replot
set output
