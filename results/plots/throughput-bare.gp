set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/throughput-bare.svg'
$m0 << EOD
10 26730.434
100 30948.974
1000 34011.11
EOD
$m1 << EOD
10 5677.498
100 6085.453
1000 5490.004
EOD
$m2 << EOD
10 22116.394
100 22728.334
1000 22257.566
EOD
$m3 << EOD
10 18568.155
100 23643.715
1000 20879.976
EOD
$m4 << EOD
10 21826.868
100 33216.27
1000 30032.461
EOD
$m5 << EOD
10 22875.773
100 28850.273
1000 27739.324
EOD
$m6 << EOD
10 25347.044
100 30659.479
1000 30197.738
EOD
set title 'Greetings/s vs concurrency, bare greeting'
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
set output '/work/main/results/plots/throughput-bare.png'
replot
set output
