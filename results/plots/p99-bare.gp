set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/p99-bare.svg'
$m0 << EOD
10 1.414
100 9.359
1000 65.855
EOD
$m1 << EOD
10 5.703
100 31.967
1000 301.311
EOD
$m2 << EOD
10 2.699
100 15.279
1000 107.903
EOD
$m3 << EOD
10 2.211
100 15.047
1000 108.351
EOD
$m4 << EOD
10 2.579
100 10.991
1000 78.655
EOD
$m5 << EOD
10 2.691
100 11.839
1000 79.679
EOD
$m6 << EOD
10 1.376
100 9.551
1000 70.975
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
