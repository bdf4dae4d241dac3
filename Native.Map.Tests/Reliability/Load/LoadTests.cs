using System.Diagnostics;
using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.Load;

/// <summary>Load held: 2^24 random keys all found with an exact Count; 10^7 insert/delete churn at constant size keeps native memory within 2x of its steady state.</summary>
[TestFixture]
[Category("Stress")]
public sealed class LoadTests : LeakCheckedTest
{
    [Test]
    public void SixteenMillionRandomKeys_AllFound_ExactCount()
    {
        const int Count = 1 << 24;
        int seed = TestSeed.Next(nameof(SixteenMillionRandomKeys_AllFound_ExactCount));
        var sw = Stopwatch.StartNew();
        using var map = new NativeMap<long, long>();
        var rng = new SplitMix64((ulong)seed);
        for (int i = 0; i < Count; i++)
        {
            long k = (long)rng.Next(); // splitmix64 is a bijection of its counter: all distinct
            map.Add(k, i);
        }
        TimeSpan insert = sw.Elapsed;
        Assert.That(map.Count, Is.EqualTo(Count));
        rng = new SplitMix64((ulong)seed);
        int wrong = 0;
        for (int i = 0; i < Count; i++)
        {
            if (!map.TryGetValue((long)rng.Next(), out long v) || v != i)
            {
                wrong++;
            }
        }
        Assert.That(wrong, Is.EqualTo(0), "keys lost or values wrong");
        var miss = new SplitMix64((ulong)seed ^ 0x5DEECE66DUL);
        int falseHits = 0;
        for (int i = 0; i < 1_000_000; i++)
        {
            falseHits += map.ContainsKey((long)miss.Next()) ? 1 : 0;
        }
        Assert.That(falseHits, Is.LessThanOrEqualTo(1), "misses found"); // a 64-bit random collision is ~2^-40 likely
        int enumerated = 0;
        foreach (KeyValuePair<long, long> kv in map)
        {
            enumerated++;
        }
        Assert.That(enumerated, Is.EqualTo(Count));
        NativeMapStats st = map.GetStats();
        TestContext.Out.WriteLine($"2^24 keys: insert {insert.TotalSeconds:F1} s, total {sw.Elapsed.TotalSeconds:F1} s, B {st.B}, overflow {st.OverflowBucketCount}, {st.NativeBytes / (double)Count:F1} bytes/entry");
    }

    /// <summary>What a constant-size churn run measured: memory right after the fill, peaks with and without a growth in progress.</summary>
    private sealed record ChurnResult(long Steady, long Peak, long PeakNotGrowing, NativeMapStats End);

    /// <summary>
    /// FIFO churn at constant size: remove the oldest key, insert a new random one. Overflow buckets
    /// left behind by deletes pile up until same-size growth (noverflow >= 2^B) sheds them, so memory
    /// saw-tooths; every key must survive and B must not change.
    /// </summary>
    private static ChurnResult Churn(int size, int ops, int seed)
    {
        var rng = new SplitMix64((ulong)seed);
        using var map = new NativeMap<long, long>();
        var fifo = new Queue<long>(size);
        void Step()
        {
            long old = fifo.Dequeue();
            if (!map.Remove(old))
            {
                Assert.Fail($"key {old} lost during churn");
            }
            long k = (long)rng.Next();
            map.Add(k, k);
            fifo.Enqueue(k);
        }
        while (fifo.Count < size)
        {
            long k = (long)rng.Next();
            map.Add(k, k);
            fifo.Enqueue(k);
        }
        while (map.GetStats().IsGrowing)
        {
            Step(); // finish the growth the fill started: the steady state is the settled table
        }
        int b = map.GetStats().B;
        long steady = map.GetStats().NativeBytes;
        long peak = steady;
        long peakNotGrowing = steady;
        for (int i = 0; i < ops; i++)
        {
            Step();
            if ((i & 255) == 0)
            {
                NativeMapStats s = map.GetStats();
                peak = Math.Max(peak, s.NativeBytes);
                if (!s.IsGrowing)
                {
                    peakNotGrowing = Math.Max(peakNotGrowing, s.NativeBytes);
                }
            }
        }
        Assert.That(map.Count, Is.EqualTo(size));
        foreach (long k in fifo)
        {
            if (!map.TryGetValue(k, out long v) || v != k)
            {
                Assert.Fail($"key {k} lost after churn");
            }
        }
        map.CheckInvariants();
        NativeMapStats end = map.GetStats();
        Assert.That(end.B, Is.EqualTo(b), "the bucket array doubled at constant size");
        TestContext.Out.WriteLine($"{ops} churn ops at {size} entries: steady {steady} bytes, peak {peak} ({(double)peak / steady:F2}x), peak outside growth {peakNotGrowing} ({(double)peakNotGrowing / steady:F2}x), end {end.NativeBytes}, B {end.B}, growths {end.GrowthsStarted} (same-size {end.SameSizeGrowthsStarted}), overflow {end.OverflowBucketCount}");
        return new ChurnResult(steady, peak, peakNotGrowing, end);
    }

    /// <summary>
    /// 10^7 churn operations at 2^15 entries: several same-size growths happen and shed the piled-up
    /// overflow buckets, so memory outside growth stays within 2x of the settled table, and the
    /// transient of a same-size growth (old array and its overflow buckets plus the new array, as in
    /// Go) within 3x.
    /// </summary>
    [Test]
    public void TenMillionChurnOps_ConstantSize_SameSizeGrowthBoundsMemory()
    {
        int seed = TestSeed.Next(nameof(TenMillionChurnOps_ConstantSize_SameSizeGrowthBoundsMemory));
        var sw = Stopwatch.StartNew();
        ChurnResult r = Churn(1 << 15, 10_000_000, seed);
        TestContext.Out.WriteLine($"{sw.Elapsed.TotalSeconds:F1} s");
        Assert.That(r.End.SameSizeGrowthsStarted, Is.GreaterThanOrEqualTo(2), "same-size growth never ran: overflow buckets are never shed");
        Assert.That(r.PeakNotGrowing, Is.LessThanOrEqualTo(2 * r.Steady), "outside growth, memory exceeded 2x the settled table");
        Assert.That(r.Peak, Is.LessThanOrEqualTo(3 * r.Steady), "a same-size growth held more than 3x the settled table");
    }

    /// <summary>
    /// Regression (found by this suite): Go's same-size growth holds the old array, its ~2^B overflow
    /// buckets and a new array at once, about 2.9x the settled table. Without a registered enumerator
    /// NativeMap compacts chains in place instead and recycles the overflow buckets, so churn stays
    /// within 2x at all times.
    /// </summary>
    [Test]
    public void ChurnConstantSize_PeakDuringSameSizeGrowth_Within2xSteadyState()
    {
        int seed = TestSeed.Next(nameof(ChurnConstantSize_PeakDuringSameSizeGrowth_Within2xSteadyState));
        ChurnResult r = Churn(1 << 14, 3_000_000, seed);
        Assert.That(r.End.SameSizeGrowthsStarted, Is.GreaterThanOrEqualTo(1), "test setup: no same-size growth happened");
        Assert.That(r.Peak, Is.LessThanOrEqualTo(2 * r.Steady), $"peak {r.Peak} bytes during a same-size growth, {(double)r.Peak / r.Steady:F2}x the settled table ({r.Steady} bytes)");
    }
}
