set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/throughput-sleep1ms.svg'
$m0 << EOD
10 881.667
100 888.0
1000 844.0
EOD
$m1 << EOD
10 4898.667
100 5484.333
1000 6088.667
EOD
$m2 << EOD
10 7047.333
100 7108.0
1000 7076.667
EOD
$m3 << EOD
10 7174.333
100 19239.0
1000 14850.333
EOD
$m4 << EOD
10 7009.0
100 7066.0
1000 7041.333
EOD
$m5 << EOD
10 7626.667
100 22208.333
1000 21792.333
EOD
$m6 << EOD
10 6514.333
100 29499.667
1000 28652.0
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
