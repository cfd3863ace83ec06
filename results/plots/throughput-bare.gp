# run from the repository's top directory: gnuplot results/plots/throughput-bare.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/throughput-bare.svg'
$m0 << EOD
10 27318.6666666667
100 29973.6666666667
1000 31145.3333333333
EOD
$m1 << EOD
10 545.666666666667
100 491.333333333333
1000 241.333333333333
EOD
$m2 << EOD
10 18135.3333333333
100 19323.6666666667
1000 18215.6666666667
EOD
$m3 << EOD
10 11927.0
100 14131.0
1000 13737.3333333333
EOD
$m4 << EOD
10 25620.6666666667
100 31719.0
1000 31957.6666666667
EOD
$m5 << EOD
10 25656.3333333333
100 31336.0
1000 28623.0
EOD
$m6 << EOD
10 31321.6666666667
100 28678.0
1000 29812.3333333333
EOD
$m7 << EOD
10 24048.0
100 28777.0
1000 32547.3333333333
EOD
$m8 << EOD
10 30024.6666666667
100 27138.6666666667
1000 28786.0
EOD
$m9 << EOD
10 22250.0
100 21154.6666666667
1000 24165.3333333333
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
