using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.Inputs;

/// <summary>
/// Bad inputs: capacities -1, 0, int.MaxValue and byte counts that overflow get
/// ArgumentOutOfRangeException or OutOfMemoryException before anything changes, with no arithmetic
/// overflow; key and value sizes of 1, 127, 128, 129 and 4000 bytes round-trip; a miss returns a
/// zeroed default; default(TKey) is an ordinary key.
/// </summary>
[TestFixture]
[Category("Inputs")]
public sealed class BadInputTests : LeakCheckedTest
{
    private static readonly int[] Capacities = [-1, -100, int.MinValue, 0, 1, 8, 9, 1 << 20, 1 << 30, int.MaxValue / 2, int.MaxValue - 1, int.MaxValue];

    /// <summary>Runs <paramref name="create"/>; it either succeeds (and the map must work) or throws AOORE/OOM having changed nothing process-wide.</summary>
    private static void CreateOrRefuse<TKey, TValue>(int capacity, Func<NativeMap<TKey, TValue>> create, Func<int, TKey> key)
        where TKey : unmanaged, IEquatable<TKey>
        where TValue : unmanaged
    {
        long bytes = NativeMapMemory.LiveBytes;
        long maps = NativeMapMemory.LiveMaps;
        NativeMap<TKey, TValue> map;
        try
        {
            map = create();
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OutOfMemoryException)
        {
            Assert.That(capacity < 0 || e is OutOfMemoryException || capacity > 1 << 28, Is.True, $"capacity {capacity} refused with {e.GetType().Name}: {e.Message}");
            Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(bytes), $"capacity {capacity}: bytes changed by a refused constructor");
            Assert.That(NativeMapMemory.LiveMaps, Is.EqualTo(maps), $"capacity {capacity}: a refused map is still counted");
            TestContext.Out.WriteLine($"capacity {capacity}: {e.GetType().Name}");
            return;
        }
        using (map)
        {
            Assert.That(capacity, Is.GreaterThanOrEqualTo(0), "a negative capacity was accepted");
            Assert.That(map.Count, Is.EqualTo(0));
            Assert.That(map.Capacity, Is.GreaterThanOrEqualTo(capacity));
            map[key(1)] = default;
            Assert.That(map.ContainsKey(key(1)), Is.True);
            map.CheckInvariants();
            TestContext.Out.WriteLine($"capacity {capacity}: accepted, {map.GetStats().NativeBytes} bytes reserved (B {map.GetStats().B})");
        }
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(bytes));
    }

    [TestCaseSource(nameof(Capacities))]
    public void Constructor_Capacity_RefusedCleanlyOrWorks_DefaultAllocator(int capacity) =>
        CreateOrRefuse(capacity, () => new NativeMap<long, long>(capacity), i => i);

    /// <summary>Wide inline slots (128-byte keys and values, 2064-byte buckets): the byte count of the array for huge capacities exceeds any address space.</summary>
    [TestCaseSource(nameof(Capacities))]
    public void Constructor_Capacity_WideSlots_RefusedCleanlyOrWorks(int capacity) =>
        CreateOrRefuse(capacity, () => new NativeMap<Sized128, Sized128>(capacity), i => Sized128.Create(i));

    /// <summary>With a 64 MiB budget the same capacities are refused by OutOfMemoryException (or AOORE) and nothing is left allocated.</summary>
    [TestCaseSource(nameof(Capacities))]
    public void Constructor_Capacity_Budget_RefusedCleanlyOrWorks(int capacity)
    {
        var alloc = new TrackingAllocator { BudgetBytes = 64 << 20 };
        CreateOrRefuse(capacity, () => new NativeMap<long, Sized4000>(capacity, alloc), i => i);
        alloc.AssertClean();
    }

    /// <summary>EnsureCapacity with every capacity, on an empty and on a non-empty map: refused before anything changes, or honoured.</summary>
    [Test]
    public void EnsureCapacity_BadValues_RefusedBeforeAnythingChanges([Values(0, 1, 100)] int entries, [ValueSource(nameof(Capacities))] int capacity)
    {
        var alloc = new TrackingAllocator { BudgetBytes = 256 << 20 };
        using (var map = new NativeMap<long, long>(0, alloc, 3u))
        {
            for (long i = 0; i < entries; i++)
            {
                map[i] = i;
            }
            int capacityBefore = map.Capacity;
            long bytesBefore = alloc.LiveBytes;
            try
            {
                int result = map.EnsureCapacity(capacity);
                Assert.That(capacity, Is.GreaterThanOrEqualTo(0), "a negative capacity was accepted");
                Assert.That(result, Is.GreaterThanOrEqualTo(capacity));
                TestContext.Out.WriteLine($"{entries} entries, EnsureCapacity({capacity}) = {result}");
            }
            catch (Exception e) when (e is ArgumentOutOfRangeException or OutOfMemoryException)
            {
                TestContext.Out.WriteLine($"{entries} entries, EnsureCapacity({capacity}): {e.GetType().Name}");
                Assert.That(capacity < 0 || e is OutOfMemoryException, Is.True, $"EnsureCapacity({capacity}) refused with {e.GetType().Name}");
                // A map without buckets may keep the 24-byte MapExtra block it allocated before the array
                // failed (accounted, freed by Dispose); nothing else may stay.
                Assert.That(alloc.LiveBytes - bytesBefore, Is.InRange(0, 24), "bytes changed by a refused EnsureCapacity");
                Assert.That(alloc.LiveBytes, Is.EqualTo(map.GetStats().NativeBytes), "bytes the map does not account for");
                if (e is ArgumentOutOfRangeException || entries == 0)
                {
                    Assert.That(map.Capacity, Is.EqualTo(capacityBefore), "Capacity changed by a refused EnsureCapacity");
                }
            }
            Assert.That(map.Count, Is.EqualTo(entries));
            for (long i = 0; i < entries; i++)
            {
                Assert.That(map[i], Is.EqualTo(i));
            }
            map.CheckInvariants();
            map[-1] = -1;
            Assert.That(map.Remove(-1), Is.True);
        }
        alloc.AssertClean();
    }

    // ---- size boundaries ---------------------------------------------------------------------

    private static IEnumerable<TestCaseData> SizePairs()
    {
        Action[] runs =
        [
            RoundTrip<Sized1, Sized1>, RoundTrip<Sized1, Sized127>, RoundTrip<Sized1, Sized128>, RoundTrip<Sized1, Sized129>, RoundTrip<Sized1, Sized4000>,
            RoundTrip<Sized127, Sized1>, RoundTrip<Sized127, Sized127>, RoundTrip<Sized127, Sized128>, RoundTrip<Sized127, Sized129>, RoundTrip<Sized127, Sized4000>,
            RoundTrip<Sized128, Sized1>, RoundTrip<Sized128, Sized127>, RoundTrip<Sized128, Sized128>, RoundTrip<Sized128, Sized129>, RoundTrip<Sized128, Sized4000>,
            RoundTrip<Sized129, Sized1>, RoundTrip<Sized129, Sized127>, RoundTrip<Sized129, Sized128>, RoundTrip<Sized129, Sized129>, RoundTrip<Sized129, Sized4000>,
            RoundTrip<Sized4000, Sized1>, RoundTrip<Sized4000, Sized127>, RoundTrip<Sized4000, Sized128>, RoundTrip<Sized4000, Sized129>, RoundTrip<Sized4000, Sized4000>,
        ];
        foreach (Action run in runs)
        {
            Type[] types = run.Method.GetGenericArguments();
            yield return new TestCaseData(run).SetArgDisplayNames($"{types[0].Name}->{types[1].Name}");
        }
    }

    [TestCaseSource(nameof(SizePairs))]
    public void KeyAndValueSizes_RoundTrip_MissIsZeroed_DefaultKeyIsOrdinary(Action roundTrip) => roundTrip();

    private static void RoundTrip<TKey, TValue>()
        where TKey : unmanaged, IEquatable<TKey>, ISizedStruct<TKey>
        where TValue : unmanaged, IEquatable<TValue>, ISizedStruct<TValue>
    {
        const int N = 200; // 1-byte keys: seeds 1..200 are distinct, 0 is default(TKey)
        var alloc = new TrackingAllocator();
        using (var map = new NativeMap<TKey, TValue>(0, alloc))
        {
            for (int i = 1; i <= N; i++)
            {
                map.Add(TKey.Create(i), TValue.Create(i * 3));
            }
            map.CheckInvariants();
            Assert.That(map.Count, Is.EqualTo(N));
            for (int i = 1; i <= N; i++)
            {
                Assert.That(map[TKey.Create(i)], Is.EqualTo(TValue.Create(i * 3)), $"key {i}");
            }
            Assert.That(map.Count(kv => kv.Value.Equals(TValue.Create((int)SeedOf(kv.Key) * 3))), Is.EqualTo(N), "enumeration");

            // A miss returns a zeroed default through every lookup.
            TKey missing = TKey.Create(N + 50);
            TValue dirty = TValue.Create(99);
            Assert.That(map.TryGetValue(missing, out dirty), Is.False);
            Assert.That(dirty.IsAllZero, Is.True, "TryGetValue on a miss left non-zero bytes");
            Assert.That(map.GetValueOrDefault(missing).IsAllZero, Is.True, "GetValueOrDefault on a miss");
            Assert.That(map.Remove(missing, out TValue removed), Is.False);
            Assert.That(removed.IsAllZero, Is.True, "Remove(out) on a miss");

            // default(TKey) is an ordinary key.
            Assert.That(map.ContainsKey(default), Is.False);
            map[default] = TValue.Create(7);
            Assert.That(map.Count, Is.EqualTo(N + 1));
            Assert.That(map[default], Is.EqualTo(TValue.Create(7)));
            map[default] = default;
            Assert.That(map.TryGetValue(default, out TValue zero) && zero.IsAllZero, Is.True, "default key with default value");
            map.CheckInvariants();
            Assert.That(map.Remove(default), Is.True);
            Assert.That(map.ContainsKey(default), Is.False);

            // Remove half, re-add with new values, all round-trip.
            for (int i = 1; i <= N; i += 2)
            {
                Assert.That(map.Remove(TKey.Create(i), out TValue v), Is.True);
                Assert.That(v, Is.EqualTo(TValue.Create(i * 3)));
            }
            for (int i = 1; i <= N; i += 2)
            {
                map[TKey.Create(i)] = TValue.Create(-i);
            }
            for (int i = 1; i <= N; i++)
            {
                Assert.That(map[TKey.Create(i)], Is.EqualTo(TValue.Create(i % 2 == 1 ? -i : i * 3)));
            }
            map.CheckInvariants();
        }
        alloc.AssertClean();

        static long SeedOf(TKey key)
        {
            for (int i = 1; i <= N; i++)
            {
                if (TKey.Create(i).Equals(key))
                {
                    return i;
                }
            }
            return -1;
        }
    }
}
