using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.Faults;

/// <summary>
/// Random mixes of every write, each workload run once per allocation it makes with that
/// allocation failing (<see cref="FaultHarness.FailEachAllocation"/>): single and batched inserts
/// and removals, <c>GetValueRefOrAddDefault</c>, <c>EnsureCapacity</c> and <c>Clear</c>, so that
/// failures land in combinations no hand-written workload lines up (a batch during a growth an
/// <c>EnsureCapacity</c> started, a removal's evacuation into a chain a batch grew, a clear in the
/// middle of a doubling). The seed is printed; <c>NATIVEMAP_SEED</c> replays it.
/// </summary>
[TestFixture]
[Category("Faults")]
public sealed class RandomMixAllocationFailureTests : LeakCheckedTest
{
    /// <summary>
    /// A workload of <paramref name="steps"/> random writes over <paramref name="keySpace"/> keys:
    /// mostly inserts, so that the map grows through several doublings, with removals, batches of
    /// up to 60 keys (present, absent and repeated), a few capacity requests and an occasional clear.
    /// </summary>
    private static List<FaultStep<TKey, TValue, THasher>> Mix<TKey, TValue, THasher>(
        Random rng, int steps, int keySpace, Func<int, TKey> key, Func<int, TValue> value)
        where TKey : unmanaged, IEquatable<TKey>
        where TValue : unmanaged
        where THasher : struct, IKeyHasher<TKey>
    {
        var workload = new List<FaultStep<TKey, TValue, THasher>>();
        TKey[] Keys(int n) => [.. Enumerable.Range(0, n).Select(_ => key(rng.Next(keySpace)))];
        for (int s = 0; s < steps; s++)
        {
            int k = rng.Next(keySpace);
            int roll = rng.Next(100);
            workload.Add(roll switch
            {
                < 40 => FaultStep<TKey, TValue, THasher>.Set(key(k), value(s)),
                < 55 => FaultStep<TKey, TValue, THasher>.Remove(key(k)),
                < 65 => FaultStep<TKey, TValue, THasher>.RefAdd(key(k), value(-s)),
                < 77 => SetValues<TKey, TValue, THasher>(Keys(rng.Next(1, 60)), value, s),
                < 89 => FaultStep<TKey, TValue, THasher>.RemoveKeys(Keys(rng.Next(1, 60))),
                < 94 => FaultStep<TKey, TValue, THasher>.EnsureCapacity(rng.Next(keySpace * 2), capacityUnchangedOnFailure: false),
                < 95 => new FaultStep<TKey, TValue, THasher>("Clear", m => m.Clear(), d => d.Clear()),
                _ => FaultStep<TKey, TValue, THasher>.Set(key(keySpace + s), value(s)), // a key never seen before
            });
        }
        return workload;
    }

    private static FaultStep<TKey, TValue, THasher> SetValues<TKey, TValue, THasher>(TKey[] keys, Func<int, TValue> value, int salt)
        where TKey : unmanaged, IEquatable<TKey>
        where TValue : unmanaged
        where THasher : struct, IKeyHasher<TKey> =>
        FaultStep<TKey, TValue, THasher>.SetValues(keys, [.. keys.Select((_, i) => value(salt * 100 + i))]);

    [TestCase(0u)]
    [TestCase(0x5EEDu)]
    public void RandomMix_LongKeys_EveryAllocationFails_ModelHolds(uint hash0)
    {
        int seed = TestSeed.Next(nameof(RandomMix_LongKeys_EveryAllocationFails_ModelHolds));
        var rng = new Random(seed);
        int faults = 0;
        for (int round = 0; round < 8; round++)
        {
            List<FaultStep<long, long, DefaultKeyHasher<long>>> workload = Mix<long, long, DefaultKeyHasher<long>>(rng, 1_500, 4_000, i => i, i => i);
            faults += FaultHarness.FailEachAllocation(a => new NativeMap<long, long, DefaultKeyHasher<long>>(0, a, hash0), [], workload);
        }
        // Each workload allocates at least its first array; most grow through several doublings
        // (a clear or a run of removals can keep one small).
        Assert.That(faults, Is.GreaterThan(40), $"seed {seed}: the mixes should allocate through several growths");
    }

    /// <summary>Long chains (16 distinct hashes): overflow buckets and chunks on every path, same-size growth after removals.</summary>
    [Test]
    public void RandomMix_CollidingKeys_EveryAllocationFails_ModelHolds()
    {
        int seed = TestSeed.Next(nameof(RandomMix_CollidingKeys_EveryAllocationFails_ModelHolds));
        var rng = new Random(seed);
        int faults = 0;
        for (int round = 0; round < 8; round++)
        {
            List<FaultStep<long, long, CollidingHasher>> workload = Mix<long, long, CollidingHasher>(rng, 800, 1_000, i => i, i => i);
            faults += FaultHarness.FailEachAllocation(a => new NativeMap<long, long, CollidingHasher>(0, a, 7u), [], workload);
        }
        Assert.That(faults, Is.GreaterThan(40), $"seed {seed}: the chains should allocate overflow buckets");
    }

    /// <summary>Indirect keys and values (200 and 320 bytes): every entry allocates two blocks, every removal frees them.</summary>
    [Test]
    public void RandomMix_IndirectKeysAndValues_EveryAllocationFails_ModelHolds()
    {
        int seed = TestSeed.Next(nameof(RandomMix_IndirectKeysAndValues_EveryAllocationFails_ModelHolds));
        var rng = new Random(seed);
        List<FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>> workload = Mix<Big200, Big320, DefaultKeyHasher<Big200>>(rng, 120, 150, i => new Big200(i), i => new Big320(i));
        int faults = FaultHarness.FailEachAllocation(a => new NativeMap<Big200, Big320, DefaultKeyHasher<Big200>>(0, a, 13u), [], workload);
        Assert.That(faults, Is.GreaterThan(5), $"seed {seed}");
    }
}
