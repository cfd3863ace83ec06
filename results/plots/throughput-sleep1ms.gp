# run from the repository's top directory: gnuplot results/plots/throughput-sleep1ms.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/throughput-sleep1ms.svg'
$m0 << EOD
10 875.0
100 820.0
1000 538.0
EOD
$m1 << EOD
10 460.666666666667
100 439.666666666667
1000 248.0
EOD
$m2 << EOD
10 6828.0
100 6699.66666666667
1000 6522.33333333333
EOD
$m3 << EOD
10 6664.0
100 13370.0
1000 11545.6666666667
EOD
$m4 << EOD
10 6935.66666666667
100 6967.33333333333
1000 6686.66666666667
EOD
$m5 << EOD
10 6982.33333333333
100 23596.6666666667
1000 22141.0
EOD
$m6 << EOD
10 6362.0
100 29163.0
1000 31505.0
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
