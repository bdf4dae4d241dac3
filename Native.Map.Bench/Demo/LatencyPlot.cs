using System.Globalization;
using ScottPlot;

namespace Native.Map.Bench.Demo;

/// <summary>
/// The per-insert latency picture: latency (log scale) against insert index for both maps, from the
/// down-sampled series of one latency run each (block medians as a line, block maxima as small squares,
/// every insert over the outlier threshold as a dot). Rendered headless with ScottPlot/SkiaSharp.
/// </summary>
internal static class LatencyPlot
{
    public static void Write(string path, int n, IReadOnlyList<(string Map, PlotSeries Series, Color Color)> series)
    {
        using var plot = new Plot();
        foreach ((string map, PlotSeries s, Color color) in series)
        {
            var max = plot.Add.ScatterPoints(
                s.BlockMaxIndex.Select(i => (double)i).ToArray(),
                s.BlockMaxNs.Select(Log).ToArray(),
                color.WithAlpha(0.55));
            max.MarkerSize = 2.5f;
            max.MarkerShape = MarkerShape.FilledSquare;
            max.LegendText = $"{map}: slowest insert of each block of {s.BlockSize:N0}";
            if (s.OutlierIndex.Length > 0)
            {
                var dots = plot.Add.ScatterPoints(
                    s.OutlierIndex.Select(i => (double)i).ToArray(),
                    s.OutlierNs.Select(Log).ToArray(),
                    color);
                dots.MarkerSize = 6;
                dots.MarkerShape = map == "NativeMap" ? MarkerShape.FilledCircle : MarkerShape.OpenCircle;
                dots.LegendText = $"{map}: every insert >= {FormatNs(s.OutlierThresholdNs)} ({s.OutlierIndex.Length:N0})";
            }
            var median = plot.Add.ScatterLine(
                s.BlockStart.Select(i => (double)i + s.BlockSize / 2.0).ToArray(),
                s.BlockMedianNs.Select(Log).ToArray(),
                color);
            median.LineWidth = 2f;
            median.LegendText = $"{map}: median of each block";
        }

        var ticks = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            LabelFormatter = y => FormatNs(Math.Pow(10, y)),
        };
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.Left.MinorTickStyle.Length = 3;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = x => x.ToString("N0", CultureInfo.InvariantCulture),
        };
        plot.Title($"Per-insert latency, building {n:N0} long -> long entries from empty (one clock read per insert)");
        plot.XLabel("insert index");
        plot.YLabel("latency of that insert (log scale)");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 1600, 900);
    }

    private static double Log(long ns) => Math.Log10(Math.Max(1, ns));

    internal static string FormatNs(double ns) => ns switch
    {
        < 1e3 => $"{ns.ToString("0.#", CultureInfo.InvariantCulture)} ns",
        < 1e6 => $"{(ns / 1e3).ToString("0.#", CultureInfo.InvariantCulture)} µs",
        < 1e9 => $"{(ns / 1e6).ToString("0.#", CultureInfo.InvariantCulture)} ms",
        _ => $"{(ns / 1e9).ToString("0.#", CultureInfo.InvariantCulture)} s",
    };
}
