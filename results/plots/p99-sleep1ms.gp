# run from the repository's top directory: gnuplot results/plots/p99-sleep1ms.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/p99-sleep1ms.svg'
$m0 << EOD
10 13.767
100 118.847
1000 1153.979
EOD
$m1 << EOD
10 32.143
100 207.103
1000 2095.103
EOD
$m2 << EOD
10 2.034
100 16.927
1000 148.351
EOD
$m3 << EOD
10 2.821
100 12.647
1000 114.431
EOD
$m4 << EOD
10 2.133
100 21.775
1000 155.007
EOD
$m5 << EOD
10 2.289
100 9.239
1000 84.735
EOD
$m6 << EOD
10 2.495
100 6.599
1000 57.663
EOD
set title 'p99 greeting latency vs concurrency, 1 ms sleep work'
set xlabel 'concurrent connections (loadgen -c)'
set ylabel 'p99 greeting latency (ms, median, log scale)'
set logscale x
set xtics (10, 100, 1000)
set xrange [6.66667:1500]
set key outside right top
set grid
set logscale y

plot $m0 using 1:2 with linespoints lw 2 lc rgb '#000000' pt 4 ps 1.2 title 'iterative', $m1 using 1:2 with linespoints lw 2 lc rgb '#d62728' pt 5 ps 1.2 title 'fork', $m2 using 1:2 with linespoints lw 2 lc rgb '#ff7f0e' pt 6 ps 1.2 title 'prefork', $m3 using 1:2 with linespoints lw 2 lc rgb '#2ca02c' pt 7 ps 1.2 title 'thread', $m4 using 1:2 with linespoints lw 2 lc rgb '#1f77b4' pt 8 ps 1.2 title 'pool', $m5 using 1:2 with linespoints lw 2 lc rgb '#17becf' pt 9 ps 1.2 title 'pool-256', $m6 using 1:2 with linespoints lw 2 lc rgb '#9467bd' pt 10 ps 1.2 title 'event'
set terminal pngcairo size 900,560 enhanced font 'Helvetica,11'
set output 'results/plots/p99-sleep1ms.png'
replot
set output
