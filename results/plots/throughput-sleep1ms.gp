set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/throughput-sleep1ms.svg'
$m0 << EOD
10 854.0
100 865.333
1000 803.667
EOD
$m1 << EOD
10 4098.667
100 3984.667
1000 4388.0
EOD
$m2 << EOD
10 6363.0
100 6808.0
1000 6784.667
EOD
$m3 << EOD
10 6042.0
100 13065.333
1000 15498.0
EOD
$m4 << EOD
10 6243.667
100 6891.0
1000 6855.333
EOD
$m5 << EOD
10 6666.0
100 14737.0
1000 16769.667
EOD
$m6 << EOD
10 5773.667
100 20565.667
1000 17629.0
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
