# run from the repository's top directory: gnuplot results/plots/throughput-bare.gp
set terminal svg size 900,560 dynamic enhanced font 'Helvetica,13' background '#ffffff'
set output 'results/plots/throughput-bare.svg'
$m0 << EOD
10 28463.6666666667
100 31154.3333333333
1000 33391.0
EOD
$m1 << EOD
10 594.0
100 517.666666666667
1000 265.0
EOD
$m2 << EOD
10 19441.3333333333
100 18863.3333333333
1000 19735.3333333333
EOD
$m3 << EOD
10 13427.6666666667
100 14486.6666666667
1000 14836.6666666667
EOD
$m4 << EOD
10 26399.3333333333
100 29675.0
1000 34380.6666666667
EOD
$m5 << EOD
10 26741.3333333333
100 30402.6666666667
1000 29306.0
EOD
$m6 << EOD
10 31586.0
100 33504.3333333333
1000 30789.0
EOD
$m7 << EOD
10 24871.0
100 29995.0
1000 33286.0
EOD
$m8 << EOD
10 28607.6666666667
100 28992.3333333333
1000 25142.0
EOD
$m9 << EOD
10 19671.3333333333
100 20189.0
1000 22116.3333333333
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
