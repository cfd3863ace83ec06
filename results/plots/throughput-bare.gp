set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output '/work/main/results/plots/throughput-bare.svg'
$m0 << EOD
10 32190.333
100 34849.0
1000 37256.667
EOD
$m1 << EOD
10 7340.0
100 7231.0
1000 7214.667
EOD
$m2 << EOD
10 26410.667
100 27279.0
1000 25764.0
EOD
$m3 << EOD
10 20641.667
100 25047.667
1000 22863.0
EOD
$m4 << EOD
10 28344.0
100 35204.667
1000 34498.0
EOD
$m5 << EOD
10 27350.0
100 28118.0
1000 30876.0
EOD
$m6 << EOD
10 33395.0
100 31028.333
1000 33551.667
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
