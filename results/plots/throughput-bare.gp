# run from the repository's top directory: gnuplot results/plots/throughput-bare.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/throughput-bare.svg'
$m0 << EOD
10 26740.0
100 30643.0
1000 33995.6666666667
EOD
$m1 << EOD
10 554.333333333333
100 456.0
1000 238.333333333333
EOD
$m2 << EOD
10 16911.6666666667
100 17314.6666666667
1000 17501.0
EOD
$m3 << EOD
10 11317.0
100 12732.0
1000 12565.6666666667
EOD
$m4 << EOD
10 26416.3333333333
100 28795.6666666667
1000 29196.3333333333
EOD
$m5 << EOD
10 27320.3333333333
100 27857.3333333333
1000 25424.6666666667
EOD
$m6 << EOD
10 30809.0
100 29477.6666666667
1000 27488.6666666667
EOD
$m7 << EOD
10 24250.3333333333
100 29285.0
1000 28910.0
EOD
$m8 << EOD
10 26704.6666666667
100 27817.3333333333
1000 25638.0
EOD
$m9 << EOD
10 20982.0
100 18544.6666666667
1000 23255.6666666667
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
