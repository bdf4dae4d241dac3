using System.Diagnostics;

namespace Native.Map.Tests.Support;

/// <summary>
/// Same-run timing for ratio assertions on a noisy shared machine: a warm-up, then the median of
/// several samples, each long enough (batches of passes) that timer resolution does not matter.
/// Compare two medians from the same run with a generous factor; never assert an absolute time.
/// </summary>
internal static class Timing
{
    /// <summary>Median nanoseconds per operation of <paramref name="pass"/>, which performs <paramref name="opsPerPass"/> operations.</summary>
    public static double MedianNsPerOp(Action pass, int opsPerPass, int samples = 7, double minSampleMs = 20)
    {
        pass(); // warm-up: JIT and tiering
        var sw = Stopwatch.StartNew();
        pass();
        double oneMs = Math.Max(sw.Elapsed.TotalMilliseconds, 0.001);
        int batch = Math.Max(1, (int)Math.Ceiling(minSampleMs / oneMs));
        var results = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            sw.Restart();
            for (int b = 0; b < batch; b++)
            {
                pass();
            }
            results[s] = sw.Elapsed.TotalNanoseconds / ((double)batch * opsPerPass);
        }
        Array.Sort(results);
        return results[samples / 2];
    }
}
