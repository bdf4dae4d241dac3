using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.Faults;

/// <summary>
/// Faults survived by the batch and ref-returning writes: the N-th allocation fails, N = 1, 2, ...,
/// inside <c>SetValues</c> batches (which promise the entries before the failing one set, it and
/// the rest not) and <c>NativeMapMarshal.GetValueRefOrAddDefault</c> (which must leave no
/// half-made entry), through growth, overflow chains and indirect keys and values. See
/// <see cref="FaultHarness"/> for what is checked at each fault.
/// </summary>
[TestFixture]
[Category("Faults")]
public sealed class BatchAllocationFailureTests : LeakCheckedTest
{
    /// <summary>Batches of <paramref name="batch"/> new keys from <paramref name="from"/>, each also overwriting a few keys set before it.</summary>
    private static List<FaultStep<long, long, THasher>> Batches<THasher>(int from, int count, int batch, long salt)
        where THasher : struct, IKeyHasher<long>
    {
        var steps = new List<FaultStep<long, long, THasher>>();
        for (int s = from; s < from + count; s += batch)
        {
            int len = Math.Min(batch, from + count - s);
            long[] keys = [.. Enumerable.Range(s, len).Select(i => (long)i).Concat(Enumerable.Range(1, 4).Select(i => (long)(s - (i * 7))).Where(k => k >= 0))];
            long[] values = [.. keys.Select(k => (k * 31) + salt)];
            steps.Add(FaultStep<long, long, THasher>.SetValues(keys, values));
        }
        return steps;
    }

    /// <summary>Batches through doublings from 50 entries to about 950, with removes between them; two seeds.</summary>
    [TestCase(0u)]
    [TestCase(0xDEADBEEFu)]
    public void SetValues_ThroughGrowth_EveryAllocationFails_APrefixIsSet(uint hash0)
    {
        List<FaultStep<long, long, DefaultKeyHasher<long>>> prepare =
            [.. Enumerable.Range(0, 50).Select(i => FaultStep<long, long, DefaultKeyHasher<long>>.Set(i, i))];
        List<FaultStep<long, long, DefaultKeyHasher<long>>> workload = Batches<DefaultKeyHasher<long>>(50, 900, 37, 1);
        workload.InsertRange(10, [FaultStep<long, long, DefaultKeyHasher<long>>.Remove(3), FaultStep<long, long, DefaultKeyHasher<long>>.Remove(200)]);
        int faults = FaultHarness.FailEachAllocation(a => new NativeMap<long, long, DefaultKeyHasher<long>>(0, a, hash0), prepare, workload);
        Assert.That(faults, Is.GreaterThan(0));
    }

    /// <summary>Batches into one long chain (16 distinct hashes): preallocated overflow buckets, then chunks.</summary>
    [Test]
    public void SetValues_OverflowChains_EveryAllocationFails_APrefixIsSet()
    {
        int faults = FaultHarness.FailEachAllocation(a => new NativeMap<long, long, CollidingHasher>(0, a, 5u), [], Batches<CollidingHasher>(0, 700, 64, 3));
        Assert.That(faults, Is.GreaterThan(0));
    }

    /// <summary>Batches of indirect keys and values (200 and 320 bytes): each entry allocates two blocks.</summary>
    [Test]
    public void SetValues_IndirectKeysAndValues_EveryAllocationFails_APrefixIsSet()
    {
        var workload = new List<FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>>();
        for (int s = 0; s < 120; s += 23)
        {
            int[] ids = [.. Enumerable.Range(s, 23).Concat(s >= 10 ? [s - 3, s - 10] : [])];
            workload.Add(FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>.SetValues([.. ids.Select(i => new Big200(i))], [.. ids.Select(i => new Big320((i * 1000) + s))]));
            workload.Add(FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>.Remove(new Big200(s / 2)));
        }
        int faults = FaultHarness.FailEachAllocation(a => new NativeMap<Big200, Big320, DefaultKeyHasher<Big200>>(0, a, 3u), [], workload);
        Assert.That(faults, Is.GreaterThan(0));
    }

    /// <summary>
    /// RemoveKeys batches between inserts that drive doublings: the removals do a doubling's
    /// evacuation work, which moves whole chains (16 distinct hashes: a chain's keys all go to the
    /// same half) and so allocates overflow buckets, whose allocations fail too. Each batch removes
    /// present keys, absent ones and a repeat.
    /// </summary>
    [Test]
    public void RemoveKeys_ThroughGrowth_EveryAllocationFails_APrefixIsRemoved()
    {
        var workload = new List<FaultStep<long, long, CollidingHasher>>();
        int removalFaults = 0;
        for (int at = 4; at <= 2_000; at += 4)
        {
            // Single inserts between the batches, so that a growth one of them starts has most of
            // its old buckets left when the next batch runs.
            for (int i = at - 4; i < at; i++)
            {
                workload.Add(FaultStep<long, long, CollidingHasher>.Set(i, i * 7));
            }
            long[] keys = [at - 1, at - 3, at + 100_000, at - 1];
            FaultStep<long, long, CollidingHasher> remove = FaultStep<long, long, CollidingHasher>.RemoveKeys(keys);
            workload.Add(remove with
            {
                Recover = (m, d, alloc, when) =>
                {
                    removalFaults++;
                    remove.Recover!(m, d, alloc, when);
                },
            });
        }
        int faults = FaultHarness.FailEachAllocation(a => new NativeMap<long, long, CollidingHasher>(0, a, 21u), [], workload);
        TestContext.Out.WriteLine($"{removalFaults} of the failures inside RemoveKeys");
        Assert.That(removalFaults, Is.GreaterThan(0), "no allocation failed inside a RemoveKeys batch");
    }

    /// <summary>GetValueRefOrAddDefault of new and present keys through doublings, with removes.</summary>
    [Test]
    public void GetValueRefOrAddDefault_ThroughGrowth_EveryAllocationFails_NoHalfMadeEntry()
    {
        var workload = new List<FaultStep<long, long, DefaultKeyHasher<long>>>();
        for (int i = 0; i < 800; i++)
        {
            workload.Add(FaultStep<long, long, DefaultKeyHasher<long>>.RefAdd(i, i + 1));
            if (i % 5 == 0)
            {
                workload.Add(FaultStep<long, long, DefaultKeyHasher<long>>.RefAdd(i / 2, -i));
            }
            if (i % 7 == 0)
            {
                workload.Add(FaultStep<long, long, DefaultKeyHasher<long>>.Remove(i / 3));
            }
        }
        int faults = FaultHarness.FailEachAllocation(a => new NativeMap<long, long, DefaultKeyHasher<long>>(0, a, 11u), [], workload);
        Assert.That(faults, Is.GreaterThan(0));
    }

    /// <summary>GetValueRefOrAddDefault with indirect keys and values: the key's and the value's blocks.</summary>
    [Test]
    public void GetValueRefOrAddDefault_Indirect_EveryAllocationFails_NoHalfMadeEntry()
    {
        var workload = new List<FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>>();
        for (int i = 0; i < 90; i++)
        {
            workload.Add(FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>.RefAdd(new Big200(i), new Big320(i)));
            if (i % 4 == 3)
            {
                workload.Add(FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>.Remove(new Big200(i - 2)));
                workload.Add(FaultStep<Big200, Big320, DefaultKeyHasher<Big200>>.RefAdd(new Big200(i - 1), new Big320(-i)));
            }
        }
        int faults = FaultHarness.FailEachAllocation(a => new NativeMap<Big200, Big320, DefaultKeyHasher<Big200>>(0, a, 3u), [], workload);
        Assert.That(faults, Is.GreaterThan(0));
    }
}
