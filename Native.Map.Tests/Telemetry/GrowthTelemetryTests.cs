using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Telemetry;

/// <summary>
/// Exact counts from the <c>Native.Map</c> meter for the growth scenarios of Go's map, checked against
/// the map's own <see cref="NativeMapStats"/> after each one. Only measurements made on the test's
/// thread while its <see cref="GrowthRecorder"/> lives are counted.
/// </summary>
public sealed class GrowthTelemetryTests : LeakCheckedTest
{
    private const int Million = 1_000_000;

    [Test]
    public void FillFromEmpty_ToOneMillion_StartsOneDoublingPerIncreaseOfB_EachAtTheLoadFactor()
    {
        int seed = TestSeed.Next(nameof(FillFromEmpty_ToOneMillion_StartsOneDoublingPerIncreaseOfB_EachAtTheLoadFactor));
        var keys = new SplitMix64((ulong)seed); // a bijection of its counter: a million distinct keys
        using var recorder = new GrowthRecorder();
        long count = 0;
        recorder.Progress = () => count;
        recorder.Log = TestContext.Out;
        using var map = new NativeMap<long, long>();
        for (; count < Million; count++)
        {
            map[(long)keys.Next()] = count;
        }
        NativeMapStats s = map.GetStats();
        TestContext.Out.WriteLine($"B = {s.B}, growths started = {s.GrowthsStarted}, buckets evacuated = {recorder.BucketsEvacuated}, overflow buckets taken = {recorder.OverflowBucketsAllocated}");

        Assert.That(s.Count, Is.EqualTo(Million));
        Assert.That(s.B, Is.EqualTo(NativeMap<long, long>.BucketsLog2ForHint(Million)), "B is the smallest with count <= 6.5 * 2^B");
        Assert.That(s.IsGrowing, Is.False, "the last doubling (started at 851,969) is over long before 10^6");
        Assert.That(recorder.DoublingsStarted, Is.EqualTo(s.B), "one doubling per increase of B, from B = 0");
        // Random keys below the load factor never have 2^B overflow buckets: same-size growth needs sparse
        // chains left by deletes.
        Assert.That(recorder.SameSizeStarted, Is.Zero);
        Assert.That(recorder.DoublingsCompleted, Is.EqualTo(s.B));
        Assert.That(recorder.GrowthsCleared, Is.Zero);
        Assert.That(recorder.BucketsEvacuated, Is.EqualTo((1L << s.B) - 1), "each old bucket of each doubling evacuated exactly once: 2^0 + ... + 2^(B-1)");
        Assert.That(recorder.OverflowBucketsAllocated, Is.GreaterThanOrEqualTo(s.OverflowBucketCount));
        Assert.That(recorder.Durations.Count(), Is.EqualTo(s.B), "one duration per completed growth");
        Assert.That(recorder.Durations.All(d => d.Value > 0 && d.Kind == NativeMapTelemetry.KindDouble), Is.True);

        // Each doubling started on the insert that took the count past 6.5 * 2^B (8 for B = 0): never early, never late.
        long[] startedAt = recorder.Events.Where(e => e.Instrument == NativeMapTelemetry.InstrumentNames.GrowthStarted).Select(e => e.Progress).ToArray();
        long[] expected = Enumerable.Range(0, s.B).Select(b => NativeMap<long, long>.CapacityFor((byte)b)).ToArray();
        Assert.That(startedAt, Is.EqualTo(expected), "count before the insert that started each doubling");
        recorder.AssertAgreesWith(s);
    }

    [TestCase(Million)]
    [TestCase(851_968)] // exactly 6.5 * 2^17: the largest count B = 17 holds
    public void CapacityHintThatFits_FillsWithoutAnyGrowth(int n)
    {
        int seed = TestSeed.Next(nameof(CapacityHintThatFits_FillsWithoutAnyGrowth));
        var keys = new SplitMix64((ulong)seed);
        using var recorder = new GrowthRecorder();
        using var map = new NativeMap<long, long>(n);
        int b = map.GetStats().B;
        for (int i = 0; i < n; i++)
        {
            map[(long)keys.Next()] = i;
        }
        NativeMapStats s = map.GetStats();
        Assert.That(s.Count, Is.EqualTo(n));
        Assert.That(s.B, Is.EqualTo(b));
        Assert.That(recorder.GrowthsStarted, Is.Zero);
        Assert.That(recorder.BucketsEvacuated, Is.Zero);
        recorder.AssertAgreesWith(s);

        if (n == NativeMap<long, long>.CapacityFor((byte)b))
        {
            map[(long)keys.Next()] = n; // one past the hint: exactly one doubling
            Assert.That(recorder.DoublingsStarted, Is.EqualTo(1));
            recorder.AssertAgreesWith(map.GetStats());
        }
    }

    [Test]
    public void EnsureCapacityOnEmptyMap_ReplacesTheArray_AndTheFillGrowsNothing()
    {
        int seed = TestSeed.Next(nameof(EnsureCapacityOnEmptyMap_ReplacesTheArray_AndTheFillGrowsNothing));
        var keys = new SplitMix64((ulong)seed);
        using var recorder = new GrowthRecorder();
        using var map = new NativeMap<long, long>();
        map.EnsureCapacity(200_000);
        for (int i = 0; i < 200_000; i++)
        {
            map[(long)keys.Next()] = i;
        }
        Assert.That(recorder.GrowthsStarted, Is.Zero, "an empty map swaps its array at once: no growth, nothing to evacuate");
        recorder.AssertAgreesWith(map.GetStats());
    }

    [Test]
    public void ClearThenRefill_ToTheSameSize_GrowsNothing()
    {
        const int n = 100_000;
        int seed = TestSeed.Next(nameof(ClearThenRefill_ToTheSameSize_GrowsNothing));
        var keys = new SplitMix64((ulong)seed);
        using var map = new NativeMap<long, long>();
        for (int i = 0; i < n; i++)
        {
            map[(long)keys.Next()] = i;
        }
        NativeMapStats full = map.GetStats();
        Assert.That(full.GrowthsStarted, Is.GreaterThan(0));
        Assert.That(full.IsGrowing, Is.False);

        using var recorder = new GrowthRecorder();
        map.Clear();
        NativeMapStats cleared = map.GetStats();
        Assert.That(cleared.B, Is.EqualTo(full.B), "Clear keeps the bucket array (Go's clear(m))");
        for (int i = 0; i < n; i++)
        {
            map[(long)keys.Next()] = i; // new keys, new seed: a genuinely different fill
        }
        NativeMapStats refilled = map.GetStats();
        Assert.That(refilled.Count, Is.EqualTo(n));
        Assert.That(refilled.B, Is.EqualTo(full.B));
        Assert.That(recorder.GrowthsStarted, Is.Zero);
        Assert.That(recorder.BucketsEvacuated, Is.Zero);
        recorder.AssertAgreesWith(refilled, baseline: full);
    }

    [Test]
    public void DisposeInTheMiddleOfADoubling_EndsItAsDisposed_SoStartedEqualsCompleted()
    {
        var map = new NativeMap<long, long>(52);
        for (long i = 0; i < 52; i++)
        {
            map[i] = i;
        }
        using var recorder = new GrowthRecorder();
        map[52] = 52;
        Assert.That(map.GetStats().IsGrowing, Is.True);
        map.Dispose();
        Assert.That(recorder.DoublingsStarted, Is.EqualTo(1));
        Assert.That(recorder.DoublingsCompleted, Is.EqualTo(1), "every started growth is reported as ended");
        Assert.That(recorder.GrowthsDisposed, Is.EqualTo(1));
        Assert.That(recorder.Durations, Is.Empty, "a growth cut short has no evacuation time to report");
    }

    [Test]
    public void ClearInTheMiddleOfADoubling_EndsItAsCleared_AndTheRefillGrowsNothing()
    {
        // 53,248 = 6.5 * 2^13: the next insert starts the doubling to B = 14.
        const int atGrowth = 53_249;
        int seed = TestSeed.Next(nameof(ClearInTheMiddleOfADoubling_EndsItAsCleared_AndTheRefillGrowsNothing));
        var keys = new SplitMix64((ulong)seed);
        using var map = new NativeMap<long, long>();
        for (int i = 0; i < atGrowth - 1; i++)
        {
            map[(long)keys.Next()] = i;
        }
        NativeMapStats before = map.GetStats();

        using var recorder = new GrowthRecorder();
        map[(long)keys.Next()] = 0;
        Assert.That(map.GetStats().IsGrowing, Is.True);
        Assert.That(recorder.DoublingsStarted, Is.EqualTo(1));
        map.Clear();
        Assert.That(map.GetStats().IsGrowing, Is.False);
        Assert.That(map.GetStats().B, Is.EqualTo(14), "the new, larger array is the one kept");
        Assert.That(recorder.GrowthsCleared, Is.EqualTo(1), "the growth ended once, as cleared");
        Assert.That(recorder.Durations, Is.Empty, "a cleared growth has no evacuation time to report");
        for (int i = 0; i < atGrowth; i++)
        {
            map[(long)keys.Next()] = i;
        }
        Assert.That(recorder.GrowthsStarted, Is.EqualTo(1), "the refill to the same size started nothing");
        recorder.AssertAgreesWith(map.GetStats(), baseline: before);
    }

    [Test]
    public void ChurnAtConstantSize_StartsSameSizeGrowthsOnly_EachByGoRule()
    {
        const int size = 3000;
        int seed = TestSeed.Next(nameof(ChurnAtConstantSize_StartsSameSizeGrowthsOnly_EachByGoRule));
        var rng = new Random(seed);
        using var map = new NativeMap<long, long>();
        var live = new long[size];
        long next = 0;
        for (; next < size; next++)
        {
            map[next] = next;
            live[next] = next;
        }
        NativeMapStats before = map.GetStats();

        using var recorder = new GrowthRecorder();
        for (int op = 0; op < 300_000; op++)
        {
            int victim = rng.Next(size);
            if (!map.Remove(live[victim]))
            {
                Assert.Fail($"key {live[victim]} was lost");
            }
            GoGrowthRules.AssertInsertObeys(map, next, next);
            live[victim] = next++;
        }
        NativeMapStats after = map.GetStats();
        TestContext.Out.WriteLine($"B = {after.B}, same-size growths = {recorder.SameSizeStarted}, buckets evacuated = {recorder.BucketsEvacuated}");
        Assert.That(after.Count, Is.EqualTo(size));
        Assert.That(after.B, Is.EqualTo(before.B));
        Assert.That(recorder.DoublingsStarted, Is.Zero, "the count never passes 6.5 * 2^B");
        Assert.That(recorder.SameSizeStarted, Is.GreaterThan(0), "deletes leave sparse overflow chains; 2^B of them start a same-size growth");
        long finished = recorder.SameSizeCompleted << after.B;
        long inProgress = after.IsGrowing ? (1L << after.B) - 1 : 0;
        Assert.That(recorder.BucketsEvacuated, Is.InRange(finished, finished + inProgress), "2^B old buckets per finished same-size growth, plus part of the current one");
        recorder.AssertAgreesWith(after, baseline: before);
        map.CheckInvariants();
    }

    [Test]
    public void CopyingTheMapReference_CopiesNothing_AndGrowsNothing()
    {
        using var map = new NativeMap<long, long>();
        for (long i = 0; i < 10_000; i++)
        {
            map[i] = i;
        }
        long bytes = NativeMapMemory.LiveBytes;
        long maps = NativeMapMemory.LiveMaps;
        NativeMapStats before = map.GetStats();

        using var recorder = new GrowthRecorder();
        NativeMap<long, long> alias = map;
        IDictionary<long, long> asDictionary = map;
        alias[1] = -1;
        asDictionary[2] = -2;
        Assert.That(map[1], Is.EqualTo(-1));
        Assert.That(map[2], Is.EqualTo(-2));
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(bytes), "a reference copy shares the one set of buckets");
        Assert.That(NativeMapMemory.LiveMaps, Is.EqualTo(maps));
        Assert.That(recorder.Events, Is.Empty, "no growth, no evacuation, no overflow bucket");
        recorder.AssertAgreesWith(map.GetStats(), baseline: before);
    }

    [Test]
    public void ObservableInstruments_ReportLiveBytesAndMaps()
    {
        using var recorder = new GrowthRecorder();
        using var map = new NativeMap<long, long>(10_000);
        (long bytes, long maps) = recorder.Observe();
        Assert.That(bytes, Is.EqualTo(NativeMapMemory.LiveBytes));
        Assert.That(maps, Is.EqualTo(NativeMapMemory.LiveMaps));
        Assert.That(bytes, Is.GreaterThanOrEqualTo(map.GetStats().NativeBytes));
    }
}
