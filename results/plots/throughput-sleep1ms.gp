set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/throughput-sleep1ms.svg'
$m0 << EOD
10 879.809
100 851.495
1000 629.057
EOD
$m1 << EOD
10 4469.042
100 6152.563
1000 5028.428
EOD
$m2 << EOD
10 7005.386
100 7007.845
1000 6762.049
EOD
$m3 << EOD
10 7027.115
100 18719.725
1000 16395.889
EOD
$m4 << EOD
10 6889.771
100 6893.127
1000 6779.078
EOD
$m5 << EOD
10 7371.529
100 24046.575
1000 22584.453
EOD
$m6 << EOD
10 6385.877
100 28636.391
1000 28221.886
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
