# run from the repository's top directory: gnuplot results/plots/throughput-bare.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/throughput-bare.svg'
$m0 << EOD
10 35017.3333333333
100 30669.6666666667
1000 34198.3333333333
EOD
$m1 << EOD
10 808.666666666667
100 699.333333333333
1000 259.666666666667
EOD
$m2 << EOD
10 24243.6666666667
100 20385.6666666667
1000 18756.0
EOD
$m3 << EOD
10 17085.6666666667
100 14544.0
1000 14173.3333333333
EOD
$m4 << EOD
10 35008.0
100 31863.6666666667
1000 34162.3333333333
EOD
$m5 << EOD
10 33380.6666666667
100 30691.3333333333
1000 29452.3333333333
EOD
$m6 << EOD
10 34352.6666666667
100 33450.6666666667
1000 31632.3333333333
EOD
$m7 << EOD
10 27765.3333333333
100 30246.6666666667
1000 33358.6666666667
EOD
$m8 << EOD
10 35250.6666666667
100 28333.3333333333
1000 30386.3333333333
EOD
$m9 << EOD
10 22746.0
100 22139.0
1000 23581.3333333333
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

plot $m0 using 1:2 with linespoints lw 2 lc rgb '#000000' pt 4 ps 1.2 title 'iterative', $m1 using 1:2 with linespoints lw 2 lc rgb '#d62728' pt 5 ps 1.2 title 'fork', $m2 using 1:2 with linespoints lw 2 lc rgb '#ff7f0e' pt 6 ps 1.2 title 'prefork', $m3 using 1:2 with linespoints lw 2 lc rgb '#2ca02c' pt 7 ps 1.2 title 'thread', $m4 using 1:2 with linespoints lw 2 lc rgb '#1f77b4' pt 8 ps 1.2 title 'pool', $m5 using 1:2 with linespoints lw 2 lc rgb '#17becf' pt 9 ps 1.2 title 'pool-256', $m6 using 1:2 with linespoints lw 2 lc rgb '#9467bd' pt 10 ps 1.2 title 'event', $m7 using 1:2 with linespoints lw 2 dt 2 lc rgb '#8c564b' pt 11 ps 1.2 title 'nginx (ref)', $m8 using 1:2 with linespoints lw 2 dt 2 lc rgb '#e377c2' pt 12 ps 1.2 title 'nginx-per-core (ref)', $m9 using 1:2 with linespoints lw 2 dt 2 lc rgb '#7f7f7f' pt 13 ps 1.2 title 'tutorial-py (ref)'
set terminal pngcairo size 900,560 enhanced font 'Helvetica,11'
set output 'results/plots/throughput-bare.png'
replot
set output
