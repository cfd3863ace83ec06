# run from the repository's top directory: gnuplot results/plots/p99-bare.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/p99-bare.svg'
$m0 << EOD
10 1.745
100 7.719
1000 51.583
EOD
$m1 << EOD
10 28.847
100 214.399
1000 1764.351
EOD
$m2 << EOD
10 3.461
100 15.295
1000 106.943
EOD
$m3 << EOD
10 2.385
100 12.719
1000 103.999
EOD
$m4 << EOD
10 1.165
100 6.339
1000 48.191
EOD
$m5 << EOD
10 1.211
100 7.151
1000 59.551
EOD
$m6 << EOD
10 0.817
100 8.279
1000 52.735
EOD
$m7 << EOD
10 1.009
100 7.635
1000 40.959
EOD
$m8 << EOD
10 1.189
100 9.127
1000 55.391
EOD
$m9 << EOD
10 1.942
100 0.678
1000 0.657
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
