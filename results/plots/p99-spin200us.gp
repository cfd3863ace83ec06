set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/p99-spin200us.svg'
$m0 << EOD
10 3.641
100 35.743
1000 274.431
EOD
$m1 << EOD
10 8.263
100 46.719
1000 370.943
EOD
$m2 << EOD
10 6.899
100 34.815
1000 227.455
EOD
$m3 << EOD
10 5.531
100 36.895
1000 204.927
EOD
$m4 << EOD
10 3.655
100 21.439
1000 164.735
EOD
$m5 << EOD
10 3.557
100 28.959
1000 155.775
EOD
$m6 << EOD
10 4.827
100 30.943
1000 246.271
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
