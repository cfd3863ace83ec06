# run from the repository's top directory: gnuplot results/plots/p99-spin200us.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/p99-spin200us.svg'
$m0 << EOD
10 3.635
100 25.327
1000 299.263
EOD
$m1 << EOD
10 28.927
100 203.519
1000 1865.727
EOD
$m2 << EOD
10 6.923
100 30.527
1000 187.135
EOD
$m3 << EOD
10 5.943
100 31.615
1000 226.559
EOD
$m4 << EOD
10 3.991
100 19.247
1000 156.543
EOD
$m5 << EOD
10 4.383
100 18.511
1000 159.359
EOD
$m6 << EOD
10 4.327
100 27.231
1000 286.463
EOD
set title 'p99 greeting latency vs concurrency, 200 us spin work'
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
set output 'results/plots/p99-spin200us.png'
replot
set output
