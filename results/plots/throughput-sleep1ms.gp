set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/throughput-sleep1ms.svg'
$m0 << EOD
10 887.667
100 896.0
1000 855.333
EOD
$m1 << EOD
10 5390.667
100 6643.667
1000 6854.333
EOD
$m2 << EOD
10 7081.667
100 7123.667
1000 7141.667
EOD
$m3 << EOD
10 7413.333
100 21311.333
1000 18601.667
EOD
$m4 << EOD
10 7108.333
100 7166.0
1000 7122.333
EOD
$m5 << EOD
10 7718.333
100 22607.0
1000 23523.0
EOD
$m6 << EOD
10 6759.667
100 32424.0
1000 30536.667
EOD
set title 'Greetings/s vs concurrency, 1 ms sleep work'
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
set output '/work/main/results/plots/throughput-sleep1ms.png'
replot
set output
