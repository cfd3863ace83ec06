# run from the repository's top directory: gnuplot results/plots/p99-bare.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/p99-bare.svg'
$m0 << EOD
10 0.821
100 7.639
1000 46.847
EOD
$m1 << EOD
10 21.103
100 170.367
1000 1734.655
EOD
$m2 << EOD
10 2.821
100 14.615
1000 127.295
EOD
$m3 << EOD
10 1.552
100 10.255
1000 98.943
EOD
$m4 << EOD
10 0.69
100 6.379
1000 45.183
EOD
$m5 << EOD
10 0.818
100 5.983
1000 60.671
EOD
$m6 << EOD
10 0.87
100 6.795
1000 58.559
EOD
$m7 << EOD
10 1.421
100 7.503
1000 31.615
EOD
$m8 << EOD
10 1.213
100 8.311
1000 53.855
EOD
$m9 << EOD
10 0.673
100 0.9
1000 0.723
EOD
set title 'p99 greeting latency vs concurrency, bare greeting'
set xlabel 'concurrent connections (loadgen -c)'
set ylabel 'p99 greeting latency (ms, median, log scale)'
set logscale x
set xtics (10, 100, 1000)
set xrange [6.66667:1500]
set key outside right top
set grid
set logscale y

plot $m0 using 1:2 with linespoints lw 2 lc rgb '#000000' pt 4 ps 1.2 title 'iterative', $m1 using 1:2 with linespoints lw 2 lc rgb '#d62728' pt 5 ps 1.2 title 'fork', $m2 using 1:2 with linespoints lw 2 lc rgb '#ff7f0e' pt 6 ps 1.2 title 'prefork', $m3 using 1:2 with linespoints lw 2 lc rgb '#2ca02c' pt 7 ps 1.2 title 'thread', $m4 using 1:2 with linespoints lw 2 lc rgb '#1f77b4' pt 8 ps 1.2 title 'pool', $m5 using 1:2 with linespoints lw 2 lc rgb '#17becf' pt 9 ps 1.2 title 'pool-256', $m6 using 1:2 with linespoints lw 2 lc rgb '#9467bd' pt 10 ps 1.2 title 'event', $m7 using 1:2 with linespoints lw 2 dt 2 lc rgb '#8c564b' pt 11 ps 1.2 title 'nginx (ref)', $m8 using 1:2 with linespoints lw 2 dt 2 lc rgb '#e377c2' pt 12 ps 1.2 title 'nginx-per-core (ref)', $m9 using 1:2 with linespoints lw 2 dt 2 lc rgb '#7f7f7f' pt 13 ps 1.2 title 'tutorial-py (ref)'
set terminal pngcairo size 900,560 enhanced font 'Helvetica,11'
set output 'results/plots/p99-bare.png'
replot
set output
