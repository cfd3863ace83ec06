# run from the repository's top directory: gnuplot results/plots/p99-spin200us.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/p99-spin200us.svg'
$m0 << EOD
10 4.779
100 25.583
1000 254.847
EOD
$m1 << EOD
10 9.607
100 40.543
1000 317.695
EOD
$m2 << EOD
10 6.543
100 27.455
1000 140.415
EOD
$m3 << EOD
10 5.311
100 32.047
1000 185.343
EOD
$m4 << EOD
10 3.469
100 16.751
1000 139.007
EOD
$m5 << EOD
10 3.485
100 20.207
1000 136.959
EOD
$m6 << EOD
10 4.215
100 24.719
1000 214.783
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
