set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/p99-bare.svg'
$m0 << EOD
10 1.719
100 9.295
1000 70.079
EOD
$m1 << EOD
10 5.283
100 32.255
1000 312.831
EOD
$m2 << EOD
10 2.559
100 17.327
1000 147.711
EOD
$m3 << EOD
10 2.971
100 15.367
1000 105.535
EOD
$m4 << EOD
10 2.869
100 10.367
1000 82.431
EOD
$m5 << EOD
10 2.479
100 11.143
1000 81.855
EOD
$m6 << EOD
10 1.368
100 8.775
1000 72.895
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

plot $m0 using 1:2 with linespoints lw 2 lc rgb '#000000' pt 4 ps 1.2 title 'iterative', $m1 using 1:2 with linespoints lw 2 lc rgb '#d62728' pt 5 ps 1.2 title 'fork', $m2 using 1:2 with linespoints lw 2 lc rgb '#ff7f0e' pt 6 ps 1.2 title 'prefork', $m3 using 1:2 with linespoints lw 2 lc rgb '#2ca02c' pt 7 ps 1.2 title 'thread', $m4 using 1:2 with linespoints lw 2 lc rgb '#1f77b4' pt 8 ps 1.2 title 'pool', $m5 using 1:2 with linespoints lw 2 lc rgb '#17becf' pt 9 ps 1.2 title 'pool-256', $m6 using 1:2 with linespoints lw 2 lc rgb '#9467bd' pt 10 ps 1.2 title 'event'
set terminal pngcairo size 900,560 enhanced font 'Helvetica,11'
set output '/work/main/results/plots/p99-bare.png'
replot
set output
