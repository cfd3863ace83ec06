set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/p99-spin200us.svg'
$m0 << EOD
10 2.773
100 25.199
1000 241.919
EOD
$m1 << EOD
10 6.891
100 36.287
1000 301.567
EOD
$m2 << EOD
10 6.639
100 27.359
1000 144.895
EOD
$m3 << EOD
10 4.191
100 30.383
1000 184.063
EOD
$m4 << EOD
10 3.461
100 22.671
1000 150.911
EOD
$m5 << EOD
10 3.735
100 35.391
1000 219.647
EOD
$m6 << EOD
10 3.933
100 25.375
1000 171.903
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
set output '/work/main/results/plots/p99-spin200us.png'
replot
set output
