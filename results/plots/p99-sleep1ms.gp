# run from the repository's top directory: gnuplot results/plots/p99-sleep1ms.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/p99-sleep1ms.svg'
$m0 << EOD
10 13.879
100 138.879
1000 1180.368
EOD
$m1 << EOD
10 31.423
100 231.935
1000 1783.807
EOD
$m2 << EOD
10 2.509
100 18.399
1000 158.847
EOD
$m3 << EOD
10 2.797
100 13.335
1000 135.295
EOD
$m4 << EOD
10 2.363
100 21.327
1000 156.415
EOD
$m5 << EOD
10 2.831
100 8.519
1000 80.703
EOD
$m6 << EOD
10 2.607
100 7.299
1000 54.207
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
