set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/throughput-bare.svg'
$m0 << EOD
10 18463.333
100 22679.333
1000 22857.333
EOD
$m1 << EOD
10 4172.667
100 3990.0
1000 3804.0
EOD
$m2 << EOD
10 14114.667
100 12769.333
1000 14350.667
EOD
$m3 << EOD
10 13536.333
100 13482.333
1000 15527.667
EOD
$m4 << EOD
10 15404.667
100 19430.333
1000 21469.333
EOD
$m5 << EOD
10 15518.333
100 18769.0
1000 19964.667
EOD
$m6 << EOD
10 20129.333
100 23292.0
1000 19324.667
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
