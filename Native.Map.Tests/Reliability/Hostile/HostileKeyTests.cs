using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Reliability.Hostile;

/// <summary>
/// A user Equals/GetHashCode that throws, or re-enters the map, in the middle of an insert or an
/// evacuation: a clear exception, the map consistent (invariants), usable, with the right Count.
/// </summary>
[TestFixture]
[Category("Hostile")]
public sealed class HostileKeyTests : LeakCheckedTest
{
    private TrackingAllocator _alloc = null!;
    private NativeMap<HostileKey, long> _map = null!;
    private Dictionary<long, long> _model = null!;

    [SetUp]
    public void CreateMap()
    {
        HostileKey.Reset();
        _alloc = new TrackingAllocator();
        _map = new NativeMap<HostileKey, long>(0, _alloc, 77u);
        _model = [];
        for (long i = 0; i < 40; i++)
        {
            Set(i, i * 10);
        }
    }

    [TearDown]
    public void DisposeMap()
    {
        HostileKey.Reset();
        _map.Dispose();
        _alloc.AssertClean();
    }

    private void Set(long id, long value)
    {
        _map[new HostileKey(id)] = value;
        _model[id] = value;
    }

    /// <summary>Hooks off; map equals the model, invariants hold, and it still takes inserts and removes.</summary>
    private void AssertConsistentAndUsable()
    {
        HostileKey.Reset();
        _map.CheckInvariants();
        Assert.That(_map.Count, Is.EqualTo(_model.Count), "Count");
        foreach (KeyValuePair<long, long> kv in _model)
        {
            Assert.That(_map.TryGetValue(new HostileKey(kv.Key), out long v) && v == kv.Value, Is.True, $"key {kv.Key}");
        }
        Assert.That(_map.Count(kv => _model.ContainsKey(kv.Key.Id)), Is.EqualTo(_model.Count), "enumeration");
        for (long i = 5000; i < 5300; i++)
        {
            Set(i, i);
        }
        Assert.That(_map.Remove(new HostileKey(5000)), Is.True);
        _model.Remove(5000);
        _map.CheckInvariants();
        Assert.That(_map.Count, Is.EqualTo(_model.Count));
    }

    /// <summary>Two ids whose GetHashCode agree (long's hash folds the halves), so inserting one compares against the other.</summary>
    private static long Twin(long id) => id << 32;

    /// <summary>Grows to the point where a growth has started and old buckets remain.</summary>
    private void FillUntilGrowing()
    {
        long i = 1000;
        while (!_map.GetStats().IsGrowing || _map.GetStats().EvacuatedBuckets * 2 > _map.GetStats().OldBucketCount)
        {
            Set(i++, i);
        }
    }

    [Test]
    public void GetHashCodeThrows_OnInsert_MapUnchanged()
    {
        HostileKey.ThrowOnHash = id => id == 999;
        Assert.Throws<HostileKeyException>(() => _map[new HostileKey(999)] = 1);
        Assert.Throws<HostileKeyException>(() => _map.Add(new HostileKey(999), 1));
        Assert.Throws<HostileKeyException>(() => _map.Remove(new HostileKey(999)));
        Assert.Throws<HostileKeyException>(() => _map.ContainsKey(new HostileKey(999)));
        AssertConsistentAndUsable();
    }

    [Test]
    public void EqualsThrows_OnInsertIntoSharedChain_MapUnchanged()
    {
        long twin = Twin(7);
        Assert.That(new HostileKey(twin).GetHashCode(), Is.EqualTo(new HostileKey(7).GetHashCode()), "test setup: the twins must collide");
        HostileKey.ThrowOnEquals = _ => true;
        Assert.Throws<HostileKeyException>(() => _map[new HostileKey(twin)] = 1, "inserting a key whose hash matches a stored one must call Equals");
        Assert.Throws<HostileKeyException>(() => _map[new HostileKey(7)] = 1, "overwriting calls Equals");
        Assert.Throws<HostileKeyException>(() => _map.Remove(new HostileKey(7)));
        AssertConsistentAndUsable();
        Assert.That(_map[new HostileKey(7)], Is.EqualTo(70), "the value survived the failed overwrite");
    }

    /// <summary>The hash of a stored key throws while the insert evacuates its old bucket: the evacuation is transactional, nothing moves.</summary>
    [Test]
    public void GetHashCodeThrows_DuringEvacuation_NothingMoves()
    {
        FillUntilGrowing();
        NativeMapStats before = _map.GetStats();
        var stored = new HashSet<long>(_model.Keys);
        HostileKey.ThrowOnHash = id => stored.Contains(id);
        int threw = 0;
        for (long i = 1_000_000; i < 1_000_050; i++)
        {
            try
            {
                _map[new HostileKey(i)] = i; // hashes i (fine), then evacuates, hashing stored keys
                _model[i] = i;
            }
            catch (HostileKeyException)
            {
                threw++;
            }
        }
        Assert.That(threw, Is.GreaterThan(0), "no evacuation hashed a stored key");
        HostileKey.Reset();
        NativeMapStats after = _map.GetStats();
        TestContext.Out.WriteLine($"{threw} inserts failed mid-evacuation; evacuated {before.EvacuatedBuckets} -> {after.EvacuatedBuckets} of {after.OldBucketCount}");
        AssertConsistentAndUsable();
    }

    [Test]
    public void EqualsReentersWithWrite_DuringInsert_ConcurrentWritesException_MapUnchanged()
    {
        long twin = Twin(3);
        HostileKey.OnEquals = _ => _map[new HostileKey(123_456)] = 1;
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => _map[new HostileKey(twin)] = 5)!;
        Assert.That(e.Message, Does.Contain("concurrent map writes"));
        AssertConsistentAndUsable();
        Assert.That(_map.ContainsKey(new HostileKey(123_456)), Is.False, "the refused re-entrant write happened");
    }

    [Test]
    public void EqualsReentersWithWrite_Swallowed_OuterInsertCompletes()
    {
        long twin = Twin(3);
        int refused = 0;
        HostileKey.OnEquals = _ =>
        {
            try
            {
                _map.Remove(new HostileKey(4));
            }
            catch (InvalidOperationException ex) when (ex.Message.Contains("concurrent map writes", StringComparison.Ordinal))
            {
                refused++;
            }
        };
        _map[new HostileKey(twin)] = 5;
        _model[twin] = 5;
        Assert.That(refused, Is.GreaterThan(0));
        AssertConsistentAndUsable();
    }

    [Test]
    public void EqualsReentersWithRead_DuringInsert_ConcurrentReadWriteException()
    {
        long twin = Twin(9);
        HostileKey.OnEquals = _ => _map.TryGetValue(new HostileKey(1), out _);
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => _map.Add(new HostileKey(twin), 5))!;
        Assert.That(e.Message, Does.Contain("concurrent map read and map write"));
        AssertConsistentAndUsable();
    }

    [Test]
    public void EqualsReentersWithForeach_DuringInsert_Refused()
    {
        long twin = Twin(11);
        HostileKey.OnEquals = _ =>
        {
            foreach (KeyValuePair<HostileKey, long> kv in _map)
            {
                GC.KeepAlive(kv.Key.ToString());
            }
        };
        Assert.Throws<InvalidOperationException>(() => _map.Add(new HostileKey(twin), 5));
        AssertConsistentAndUsable();
    }

    [Test]
    public void EqualsCallsDispose_DuringInsert_DisposeRefused_MapIntact()
    {
        long twin = Twin(13);
        HostileKey.OnEquals = _ => _map.Dispose();
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => _map.Add(new HostileKey(twin), 5))!;
        Assert.That(e.Message, Does.Contain("concurrent map writes"));
        Assert.That(_map.IsDisposed, Is.False);
        AssertConsistentAndUsable();
    }

    /// <summary>GetHashCode of a stored key re-enters the map with a write during evacuation.</summary>
    [Test]
    public void GetHashCodeReentersWithWrite_DuringEvacuation_Refused_MapConsistent()
    {
        FillUntilGrowing();
        var stored = new HashSet<long>(_model.Keys);
        int reentered = 0;
        HostileKey.ThrowOnHash = id =>
        {
            if (stored.Contains(id))
            {
                reentered++;
                _map.Remove(new HostileKey(id)); // throws "concurrent map writes" out of the evacuation
            }
            return false;
        };
        int refused = 0;
        for (long i = 2_000_000; i < 2_000_050; i++)
        {
            try
            {
                _map[new HostileKey(i)] = i;
                _model[i] = i;
            }
            catch (InvalidOperationException ex) when (ex.Message.Contains("concurrent map writes", StringComparison.Ordinal))
            {
                refused++;
            }
        }
        Assert.That(reentered, Is.GreaterThan(0), "no evacuation re-entered");
        Assert.That(refused, Is.GreaterThan(0));
        AssertConsistentAndUsable();
    }

    /// <summary>Equals throws while an insert looks for the key in a long shared chain mid-growth: Count stays right.</summary>
    [Test]
    public void EqualsThrows_MidGrowth_CountRight()
    {
        FillUntilGrowing();
        int threw = 0;
        HostileKey.ThrowOnEquals = _ => true;
        foreach (long id in _model.Keys.Take(30).ToList())
        {
            Assert.Throws<HostileKeyException>(() => _map[new HostileKey(Twin(id))] = 1);
            threw++;
        }
        Assert.That(threw, Is.EqualTo(30));
        AssertConsistentAndUsable();
    }

    /// <summary>
    /// The written key's own GetHashCode runs before the write takes the writer flag; a whole write
    /// done from there (Clear, which also changes the seed) is allowed, and the outer write must then
    /// see the map as it is now: its flag check and its hash are not stale.
    /// </summary>
    [TestCase("indexer")]
    [TestCase("TryAdd")]
    [TestCase("Remove")]
    public void GetHashCodeOfWrittenKey_ClearsTheMap_OuterWriteSeesTheClearedMap(string write)
    {
        // A map with a random seed: the fixture's fixed seed would survive Clear.
        _map.Dispose();
        _map = new NativeMap<HostileKey, long>(0, _alloc);
        _model.Clear();
        for (long i = 0; i < 40; i++)
        {
            Set(i, i * 10);
        }
        const long id = 7_000_001;
        Set(id, 1);
        bool cleared = false;
        HostileKey.ThrowOnHash = hashed =>
        {
            if (hashed == id && !cleared)
            {
                cleared = true;
                _map.Clear();
                _model.Clear();
            }
            return false;
        };
        switch (write)
        {
            case "indexer":
                _map[new HostileKey(id)] = 2;
                _model[id] = 2;
                break;
            case "TryAdd":
                Assert.That(_map.TryAdd(new HostileKey(id), 2), Is.True, "the key was cleared before the outer add");
                _model[id] = 2;
                break;
            default:
                Assert.That(_map.Remove(new HostileKey(id)), Is.False, "the key was cleared before the outer remove");
                break;
        }
        Assert.That(cleared, Is.True);
        AssertConsistentAndUsable();
    }

    /// <summary>The written key's GetHashCode disposes the map: the write throws ObjectDisposedException and touches nothing.</summary>
    [TestCase("indexer")]
    [TestCase("TryAdd")]
    [TestCase("Remove")]
    public void GetHashCodeOfWrittenKey_DisposesTheMap_WriteThrowsObjectDisposed(string write)
    {
        const long id = 7_000_002;
        HostileKey.ThrowOnHash = hashed =>
        {
            if (hashed == id)
            {
                _map.Dispose();
            }
            return false;
        };
        var key = new HostileKey(id);
        Action act = write switch
        {
            "indexer" => () => _map[key] = 2,
            "TryAdd" => () => _map.TryAdd(key, 2),
            _ => () => _map.Remove(key),
        };
        Assert.Throws<ObjectDisposedException>(() => act());
        Assert.That(_map.IsDisposed, Is.True);
        HostileKey.Reset();
        _alloc.AssertClean();
    }

    /// <summary>
    /// The written key's GetHashCode runs writes that start a doubling: the outer write, which tested
    /// the flags before hashing, must insert into the map as it is now (growing), not as it was.
    /// </summary>
    [TestCase("indexer")]
    [TestCase("TryAdd")]
    [TestCase("GetValueRefOrAddDefault")]
    public void GetHashCodeOfWrittenKey_StartsAGrowth_OuterInsertSeesTheGrowingMap(string write)
    {
        const long id = 7_000_003;
        Assert.That(_map.GetStats().IsGrowing, Is.False);
        bool done = false;
        HostileKey.ThrowOnHash = hashed =>
        {
            if (hashed == id && !done)
            {
                done = true;
                for (long i = 8_000_000; !_map.GetStats().IsGrowing; i++)
                {
                    Set(i, i);
                }
            }
            return false;
        };
        var key = new HostileKey(id);
        switch (write)
        {
            case "indexer":
                _map[key] = 5;
                break;
            case "TryAdd":
                Assert.That(_map.TryAdd(key, 5), Is.True);
                break;
            default:
                NativeMapMarshal.GetValueRefOrAddDefault(_map, key, out bool exists) = 5;
                Assert.That(exists, Is.False);
                break;
        }
        _model[id] = 5;
        Assert.That(done, Is.True);
        Assert.That(_map.GetStats().IsGrowing || _map.GetStats().GrowthsStarted > 0, Is.True, "the nested writes started a doubling");
        AssertConsistentAndUsable();
    }

    // ---- lookups whose key code re-enters the map ------------------------------------------------
    // A read runs the key's GetHashCode and Equals with no writer flag held, so that code can dispose
    // the map (freeing the arrays the read is about to walk), start or finish a growth, or clear it
    // (a new seed). The read must notice before it uses anything it loaded earlier: Dispose gives
    // ObjectDisposedException, any write InvalidOperationException, and the map stays consistent.

    private static readonly string[] Reads = ["TryGetValue", "ContainsKey", "indexer", "GetValueOrDefault", "GetValueRefOrNullRef", "TryGetValues"];

    /// <summary>One lookup of <paramref name="key"/> through the read named <paramref name="read"/>.</summary>
    private void Read(string read, HostileKey key)
    {
        switch (read)
        {
            case "TryGetValue":
                _ = _map.TryGetValue(key, out _);
                break;
            case "ContainsKey":
                _ = _map.ContainsKey(key);
                break;
            case "indexer":
                _ = _map[key];
                break;
            case "GetValueOrDefault":
                _ = _map.GetValueOrDefault(key);
                break;
            case "GetValueRefOrNullRef":
                _ = NativeMapMarshal.GetValueRefOrNullRef(_map, key);
                break;
            default:
                // The key in the middle of a batch of present keys.
                HostileKey[] keys = [new(1), new(2), key, new(3), new(4)];
                _ = _map.TryGetValues(keys, new long[keys.Length], new bool[keys.Length]);
                break;
        }
    }

    /// <summary>A hook that runs <paramref name="action"/> the first time it sees key <paramref name="id"/>; <paramref name="ran"/> tells whether it has.</summary>
    private static Action<long> FirstTimeFor(long id, Action action, out Func<bool> ran)
    {
        bool done = false;
        ran = () => done;
        return key =>
        {
            if (key == id && !done)
            {
                done = true;
                action();
            }
        };
    }

    /// <summary>Runs <paramref name="action"/> from the first GetHashCode of key <paramref name="id"/>; the result tells whether it ran.</summary>
    private static Func<bool> OnFirstHash(long id, Action action)
    {
        Action<long> hook = FirstTimeFor(id, action, out Func<bool> ran);
        HostileKey.ThrowOnHash = key =>
        {
            hook(key);
            return false;
        };
        return ran;
    }

    /// <summary>Runs <paramref name="action"/> from the first Equals of key <paramref name="id"/> against a stored key; the result tells whether it ran.</summary>
    private static Func<bool> OnFirstEquals(long id, Action action)
    {
        HostileKey.OnEquals = FirstTimeFor(id, action, out Func<bool> ran);
        return ran;
    }

    /// <summary>Inserts until a doubling has started (from inside a hook: no Reset).</summary>
    private void InsertUntilGrowing(long from)
    {
        for (long i = from; !_map.GetStats().IsGrowing; i++)
        {
            Set(i, i);
        }
    }

    /// <summary>The looked-up key's GetHashCode disposes the map, on a plain map (the lookup's fast path) or a growing one (the general path).</summary>
    [Test]
    public void GetHashCodeOfLookedUpKey_DisposesTheMap_ReadThrowsObjectDisposed([ValueSource(nameof(Reads))] string read, [Values] bool growing)
    {
        if (growing)
        {
            FillUntilGrowing();
        }
        Func<bool> ran = OnFirstHash(7, _map.Dispose);
        Assert.Throws<ObjectDisposedException>(() => Read(read, new HostileKey(7)));
        Assert.That(ran() && _map.IsDisposed, Is.True);
        HostileKey.Reset();
        _alloc.AssertClean();
    }

    [TestCaseSource(nameof(Reads))]
    public void EqualsDuringLookup_DisposesTheMap_ReadThrowsObjectDisposed(string read)
    {
        Func<bool> ran = OnFirstEquals(7, _map.Dispose);
        Assert.Throws<ObjectDisposedException>(() => Read(read, new HostileKey(7)));
        Assert.That(ran(), Is.True, "the lookup of a present key compared it");
        HostileKey.Reset();
        _alloc.AssertClean();
    }

    /// <summary>The looked-up key's GetHashCode inserts until a doubling starts: the read, which tested "not growing" before hashing, must not read only the new, nearly empty array.</summary>
    [TestCaseSource(nameof(Reads))]
    public void GetHashCodeOfLookedUpKey_StartsAGrowth_ReadThrowsInvalidOperation_MapConsistent(string read)
    {
        Assert.That(_map.GetStats().IsGrowing, Is.False);
        Func<bool> ran = OnFirstHash(7, () => InsertUntilGrowing(8_000_000));
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => Read(read, new HostileKey(7)))!;
        Assert.That(e.Message, Does.Contain("changed while a lookup"));
        Assert.That(ran(), Is.True);
        AssertConsistentAndUsable();
    }

    /// <summary>The looked-up key's GetHashCode clears the map and puts the key back: the hash the read computed is under the old seed (plain or growing map, as above).</summary>
    [Test]
    public void GetHashCodeOfLookedUpKey_ClearsAndRefills_ReadThrowsInvalidOperation_MapConsistent([ValueSource(nameof(Reads))] string read, [Values] bool growing)
    {
        // A random seed: the fixture's fixed one survives Clear.
        _map.Dispose();
        _map = new NativeMap<HostileKey, long>(0, _alloc);
        _model.Clear();
        for (long i = 0; i < 40; i++)
        {
            Set(i, i * 10);
        }
        if (growing)
        {
            FillUntilGrowing();
        }
        Func<bool> ran = OnFirstHash(7, () =>
        {
            _map.Clear();
            _model.Clear();
            for (long i = 0; i < 40; i++)
            {
                Set(i, i);
            }
        });
        Assert.Throws<InvalidOperationException>(() => Read(read, new HostileKey(7)));
        Assert.That(ran(), Is.True);
        AssertConsistentAndUsable();
    }

    /// <summary>Equals, called for a stored key of the chain, writes to the map: the read must not go on walking a chain that may have changed.</summary>
    [TestCaseSource(nameof(Reads))]
    public void EqualsDuringLookup_WritesTheMap_ReadThrowsInvalidOperation_MapConsistent(string read)
    {
        Func<bool> ran = OnFirstEquals(7, () => InsertUntilGrowing(9_000_000));
        Assert.Throws<InvalidOperationException>(() => Read(read, new HostileKey(7)));
        Assert.That(ran(), Is.True, "the lookup of a present key compared it");
        AssertConsistentAndUsable();
    }

    /// <summary>
    /// TryGetValues' pipelines carry bucket addresses computed keys ahead: a key's hash code that
    /// disposes the map, or writes to it, must stop the batch before any of them is read. Run on
    /// the pipeline for arrays out of cache (forced on for this small map), the growing-map pipeline,
    /// and the key-by-key path. The keys are absent, so no key comparison (which checks too) comes
    /// to the rescue: the check after the hash is the one tested.
    /// </summary>
    [TestCase("pipelined", "dispose")]
    [TestCase("pipelined", "write")]
    [TestCase("growing", "dispose")]
    [TestCase("growing", "write")]
    [TestCase("cached", "dispose")]
    [TestCase("cached", "write")]
    public void GetHashCodeInABatch_ChangesTheMap_TryGetValuesThrows(string path, string change)
    {
        if (path == "growing")
        {
            FillUntilGrowing();
        }
        if (path != "cached")
        {
            _map._pipelinedLookupMinBytes = 0;
        }
        HostileKey[] keys = [.. Enumerable.Range(0, 200).Select(i => new HostileKey(20_000_000 + i))];
        Func<bool> ran = OnFirstHash(keys[100].Id, () =>
        {
            if (change == "dispose")
            {
                _map.Dispose();
                return;
            }
            for (long i = 10_000_000; i < 10_000_400; i++)
            {
                Set(i, i);
            }
        });
        var values = new long[keys.Length];
        var found = new bool[keys.Length];
        if (change == "dispose")
        {
            Assert.Throws<ObjectDisposedException>(() => _map.TryGetValues(keys, values, found));
            Assert.That(ran(), Is.True);
            HostileKey.Reset();
            _alloc.AssertClean();
            return;
        }
        Assert.Throws<InvalidOperationException>(() => _map.TryGetValues(keys, values, found));
        Assert.That(ran(), Is.True);
        AssertConsistentAndUsable();
    }

    /// <summary>
    /// After a failed <c>RemoveKeys</c>: the keys absent from the map must be a prefix of the batch,
    /// shorter than <paramref name="limit"/>; the model follows, and the map must be consistent.
    /// </summary>
    private void AssertAPrefixWasRemoved(HostileKey[] keys, int limit)
    {
        HostileKey.Reset();
        int prefix = keys.TakeWhile(k => !_map.ContainsKey(k)).Count();
        Assert.That(prefix, Is.LessThan(limit), "keys at or after the failing one were removed");
        Assert.That(keys.Skip(prefix).All(_map.ContainsKey), Is.True, "the removed keys are not a prefix of the batch");
        for (int i = 0; i < prefix; i++)
        {
            _model.Remove(keys[i].Id);
        }
        TestContext.Out.WriteLine($"{prefix} keys removed before the failure at {limit}");
        AssertConsistentAndUsable();
    }

    /// <summary>
    /// RemoveKeys hashes each key some keys ahead of its removal: a hash code that throws stops the
    /// batch with a prefix of it removed, short of the throwing key (growing: the removals also
    /// evacuate, hashing stored keys, which may throw first).
    /// </summary>
    [TestCase(false, 30)]
    [TestCase(true, 30)]
    [TestCase(false, 0)]
    [TestCase(false, 39)]
    public void GetHashCodeThrows_InRemoveKeys_APrefixIsRemoved_MapConsistent(bool growing, int throwing)
    {
        if (growing)
        {
            FillUntilGrowing();
        }
        HostileKey[] keys = [.. Enumerable.Range(0, 40).Select(i => new HostileKey(i))];
        HostileKey.ThrowOnHash = id => id == throwing;
        Assert.Throws<HostileKeyException>(() => _map.RemoveKeys(keys));
        AssertAPrefixWasRemoved(keys, Math.Max(throwing, 1));
    }

    /// <summary>A key's Equals writes to the map during RemoveKeys: refused as concurrent map writes (the batch holds the writer flag), a prefix removed, the refused write not done.</summary>
    [Test]
    public void EqualsReentersWithWrite_InRemoveKeys_ConcurrentWrites_APrefixIsRemoved()
    {
        HostileKey[] keys = [.. Enumerable.Range(0, 40).Select(i => new HostileKey(i))];
        Func<bool> ran = OnFirstEquals(20, () => _map[new HostileKey(123_456)] = 1);
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => _map.RemoveKeys(keys))!;
        Assert.That(e.Message, Does.Contain("concurrent map writes"));
        Assert.That(ran(), Is.True);
        Assert.That(_map.ContainsKey(new HostileKey(123_456)), Is.False, "the refused re-entrant write happened");
        AssertAPrefixWasRemoved(keys, 21);
    }

    /// <summary>A key's Equals disposes the map during RemoveKeys: the dispose is refused (a write is in progress), the map stays usable.</summary>
    [Test]
    public void EqualsCallsDispose_InRemoveKeys_DisposeRefused_MapIntact()
    {
        HostileKey[] keys = [.. Enumerable.Range(0, 40).Select(i => new HostileKey(i))];
        Func<bool> ran = OnFirstEquals(5, _map.Dispose);
        var removed = new bool[keys.Length];
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => _map.RemoveKeys(keys, removed))!;
        Assert.That(e.Message, Does.Contain("concurrent map writes"));
        Assert.That(ran(), Is.True);
        Assert.That(_map.IsDisposed, Is.False);
        HostileKey.Reset();
        int reported = removed.TakeWhile(r => r).Count();
        Assert.That(removed.Skip(reported), Is.All.False, "removed reports more than a prefix");
        Assert.That(keys.Count(k => !_map.ContainsKey(k)), Is.EqualTo(reported), "the reported removals are the ones done");
        AssertAPrefixWasRemoved(keys, 6);
    }

    /// <summary>
    /// An enumeration started during a doubling walks old buckets and hashes their keys to skip the
    /// ones bound for the other half; that hash code disposes the map, which frees the old array the
    /// walk is in: MoveNext throws ObjectDisposedException instead of reading it.
    /// </summary>
    [Test]
    public void GetHashCodeDuringEnumeration_DisposesTheGrowingMap_MoveNextThrowsObjectDisposed()
    {
        FillUntilGrowing();
        int hashes = 0;
        HostileKey.ThrowOnHash = _ =>
        {
            if (++hashes == 1)
            {
                _map.Dispose();
            }
            return false;
        };
        Assert.Throws<ObjectDisposedException>(() =>
        {
            foreach (KeyValuePair<HostileKey, long> kv in _map)
            {
                _ = kv;
            }
        });
        Assert.That(hashes, Is.GreaterThan(0), "the enumeration hashed an old bucket's key");
        HostileKey.Reset();
        _alloc.AssertClean();
    }

    /// <summary>
    /// An enumeration started during a doubling hashes old-bucket keys; that hash code overwrites the
    /// key's value (a write, which an enumeration allows), and the write evacuates the old bucket:
    /// the entry must come back with the value just written, not the one its old cell still holds.
    /// </summary>
    [Test]
    public void GetHashCodeDuringEnumeration_OverwritesTheKey_EntryComesBackWithTheNewValue()
    {
        // Several doublings, each enumerated from its start: the random start position decides how
        // many old buckets a single enumeration walks, so one would test little.
        int overwritten = 0, stale = 0;
        for (int trial = 0; trial < 8; trial++)
        {
            FillUntilGrowing();
            var updated = new HashSet<long>();
            bool writing = false;
            HostileKey.ThrowOnHash = id =>
            {
                // Not from the write's own hashing (its key again, its evacuation's keys).
                if (!writing && updated.Add(id))
                {
                    writing = true;
                    try
                    {
                        Set(id, -id - 1);
                    }
                    finally
                    {
                        writing = false;
                    }
                }
                return false;
            };
            int returned = 0;
            foreach (KeyValuePair<HostileKey, long> kv in _map)
            {
                returned++;
                if (updated.Contains(kv.Key.Id) && kv.Value != -kv.Key.Id - 1)
                {
                    stale++;
                }
            }
            HostileKey.Reset();
            Assert.That(returned, Is.EqualTo(_model.Count), $"trial {trial}");
            overwritten += updated.Count;
        }
        TestContext.Out.WriteLine($"{overwritten} entries overwritten from the enumerations' hashing, {stale} returned with the old value");
        Assert.That(overwritten, Is.GreaterThan(0), "no enumeration hashed an old-bucket key");
        Assert.That(stale, Is.Zero);
        AssertConsistentAndUsable();
    }
}
