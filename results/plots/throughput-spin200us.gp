set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/throughput-spin200us.svg'
$m0 << EOD
10 4272.469
100 4211.286
1000 4015.138
EOD
$m1 << EOD
10 3731.748
100 3723.139
1000 3426.079
EOD
$m2 << EOD
10 7509.562
100 7569.689
1000 7158.337
EOD
$m3 << EOD
10 6262.214
100 6357.882
1000 6009.956
EOD
$m4 << EOD
10 6985.322
100 7575.851
1000 7093.914
EOD
$m5 << EOD
10 6622.743
100 7045.72
1000 6825.875
EOD
$m6 << EOD
10 6918.87
100 7630.768
1000 6949.688
EOD
set title 'Greetings/s vs concurrency, 200 us spin work'
set xlabel 'concurrent connections (loadgen -c)'
set ylabel 'greetings/s (median)'
set logscale x
set xtics (10, 100, 1000)
set xrange [6.66667:1500]
set key outside right top
set grid
set yrange [0:*]
set format y '%.0f'

plot $m0 using 1:2 with linespoints lw 2 lc rgb '#000000' pt 4 ps 1.2 title 'iterative', $m1 using 1:2 with linespoints lw 2 lc rgb '#d62728' pt 5 ps 1.2 title 'fork', $m2 using 1:2 with linespoints lw 2 lc rgb '#ff7f0e' pt 6 ps 1.2 title 'prefork', $m3 using 1:2 with linespoints lw 2 lc rgb '#2ca02c' pt 7 ps 1.2 title 'thread', $m4 using 1:2 with linespoints lw 2 lc rgb '#1f77b4' pt 8 ps 1.2 title 'pool', $m5 using 1:2 with linespoints lw 2 lc rgb '#17becf' pt 9 ps 1.2 title 'pool-256', $m6 using 1:2 with linespoints lw 2 lc rgb '#9467bd' pt 10 ps 1.2 title 'event'
set terminal pngcairo size 900,560 enhanced font 'Helvetica,11'
set output '/work/main/results/plots/throughput-spin200us.png'
replot
set output
