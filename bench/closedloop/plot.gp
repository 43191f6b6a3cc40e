# The plot of a bench/closedloop.sh run, one panel per trace: each policy's
# worker processes (solid) and target (dashed) over time, and the load as
# the workers it keeps busy (rate x service time, grey).  Called as
#   gnuplot -e "outdir='...'; traces='step ramp'" \
#           -e "st=0.2; png='out.png'" plot.gp
# with OUTDIR/TRACE/trace (the trace file) and OUTDIR/TRACE/POLICY.plot
# (score.py); a policy not run is left out.

policies = 'threshold target demand fixed'
colours = '#d62728 #1f77b4 #2ca02c #7f7f7f'
n = words(traces)

set terminal pngcairo size 1100, 300 * n font ',9'
set output png
set multiplot layout n, 1
set grid ytics
set key outside right top vertical
set xlabel 'seconds'
set ylabel 'workers'
set yrange [0:22]
set datafile missing '-'

nonempty(f) = system('test -s ' . f . ' && echo 1 || echo 0') + 0

do for [i = 1:n] {
    t = word(traces, i)
    set title t noenhanced
    set xrange [0:*]
    plotcmd = sprintf("'%s/%s/trace' using 1:($2*st) with lines lc rgb '#c0c0c0' lw 4 title 'load (req/s x service time)'", outdir, t)
    do for [j = 1:words(policies)] {
        f = outdir . '/' . t . '/' . word(policies, j) . '.plot'
        if (nonempty(f)) {
            plotcmd = plotcmd . sprintf(", '%s' using 1:2 with steps lc rgb '%s' lw 2 title '%s workers', '%s' using 1:3 with steps lc rgb '%s' dt 2 title '%s target'", f, word(colours, j), word(policies, j), f, word(colours, j), word(policies, j))
        }
    }
    eval('plot ' . plotcmd)
}
unset multiplot
