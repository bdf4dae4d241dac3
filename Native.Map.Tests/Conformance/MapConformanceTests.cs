using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Conformance;

/// <summary>
/// The dictionary contract, run against every map under test and against
/// <see cref="Dictionary{TKey, TValue}"/> itself, which validates the suite: a test that fails on
/// Dictionary is a wrong test.
/// </summary>
public abstract class MapConformanceTests<TKey, TValue> : LeakCheckedTest
    where TKey : notnull
    where TValue : notnull
{
    /// <summary>Sizes at the growth boundaries: empty, one, one full bucket, first growth, 6.5 load at B = 3, and larger.</summary>
    protected static readonly int[] Sizes = [0, 1, 8, 9, 52, 53, 1000, 100_000];

    protected abstract IDictionary<TKey, TValue> CreateMap(int capacityHint);

    protected abstract TKey CreateKey(int seed);

    protected abstract TValue CreateValue(int seed);

    /// <summary>Whether inserting during enumeration is allowed (Go semantics) rather than throwing (Dictionary).</summary>
    protected abstract bool AddDuringEnumerationAllowed { get; }

    /// <summary>Extra structural checks after each test step (the NativeMap invariant checker).</summary>
    protected virtual void Validate(IDictionary<TKey, TValue> map)
    {
    }

    /// <summary>Order-insensitive equality with multiplicity, in linear time (NUnit's EquivalentTo is quadratic).</summary>
    protected static void AssertSameMultiset<T>(IEnumerable<T> actual, IEnumerable<T> expected)
        where T : notnull
    {
        var counts = new Dictionary<T, int>();
        int expectedCount = 0;
        foreach (T e in expected)
        {
            counts[e] = counts.GetValueOrDefault(e) + 1;
            expectedCount++;
        }
        int actualCount = 0;
        foreach (T a in actual)
        {
            actualCount++;
            if (!counts.TryGetValue(a, out int c) || c == 0)
            {
                Assert.Fail($"unexpected or repeated element {a}");
            }
            counts[a] = c - 1;
        }
        Assert.That(actualCount, Is.EqualTo(expectedCount), "element count");
    }

    private static void Release(IDictionary<TKey, TValue> map) => (map as IDisposable)?.Dispose();

    private IDictionary<TKey, TValue> Filled(int n, int hint = 0)
    {
        IDictionary<TKey, TValue> map = CreateMap(hint);
        for (int i = 0; i < n; i++)
        {
            map.Add(CreateKey(i), CreateValue(i));
        }
        return map;
    }

    [Test]
    public void Empty_Map_HasNothing()
    {
        IDictionary<TKey, TValue> map = CreateMap(0);
        try
        {
            Assert.That(map, Has.Count.EqualTo(0));
            Assert.That(map.TryGetValue(CreateKey(1), out _), Is.False);
            Assert.That(map.ContainsKey(CreateKey(1)), Is.False);
            Assert.Throws<KeyNotFoundException>(() => _ = map[CreateKey(1)]);
            Assert.That(map.Remove(CreateKey(1)), Is.False);
            Assert.That(map.ToList(), Is.Empty);
            Validate(map);
        }
        finally
        {
            Release(map);
        }
    }

    [TestCaseSource(nameof(Sizes))]
    public void Add_N_AllFoundWithTheirValues(int n)
    {
        IDictionary<TKey, TValue> map = Filled(n);
        try
        {
            Assert.That(map, Has.Count.EqualTo(n));
            for (int i = 0; i < n; i++)
            {
                Assert.That(map.TryGetValue(CreateKey(i), out TValue? v), Is.True, $"key {i}");
                Assert.That(v, Is.EqualTo(CreateValue(i)), $"value {i}");
            }
            for (int i = n; i < n + 100; i++)
            {
                Assert.That(map.ContainsKey(CreateKey(i)), Is.False, $"absent key {i}");
            }
            Validate(map);
        }
        finally
        {
            Release(map);
        }
    }

    [TestCaseSource(nameof(Sizes))]
    public void Add_N_WithCapacityHint_AllFound(int n)
    {
        IDictionary<TKey, TValue> map = Filled(n, hint: n);
        try
        {
            Assert.That(map, Has.Count.EqualTo(n));
            for (int i = 0; i < n; i++)
            {
                Assert.That(map[CreateKey(i)], Is.EqualTo(CreateValue(i)));
            }
            Validate(map);
        }
        finally
        {
            Release(map);
        }
    }

    [TestCaseSource(nameof(Sizes))]
    public void Enumerate_N_ReturnsEveryEntryOnce(int n)
    {
        IDictionary<TKey, TValue> map = Filled(n);
        try
        {
            var expected = Enumerable.Range(0, n).Select(i => new KeyValuePair<TKey, TValue>(CreateKey(i), CreateValue(i))).ToList();
            AssertSameMultiset(map.ToList(), expected);
            AssertSameMultiset(map.Keys.ToList(), expected.Select(kv => kv.Key));
            AssertSameMultiset(map.Values.ToList(), expected.Select(kv => kv.Value));
            Assert.That(map.Keys, Has.Count.EqualTo(n));
        }
        finally
        {
            Release(map);
        }
    }

    [TestCaseSource(nameof(Sizes))]
    public void Remove_Half_OthersStay(int n)
    {
        IDictionary<TKey, TValue> map = Filled(n);
        try
        {
            for (int i = 0; i < n; i += 2)
            {
                Assert.That(map.Remove(CreateKey(i)), Is.True, $"remove {i}");
            }
            Assert.That(map, Has.Count.EqualTo(n / 2));
            for (int i = 0; i < n; i++)
            {
                Assert.That(map.ContainsKey(CreateKey(i)), Is.EqualTo(i % 2 == 1), $"key {i}");
            }
            Assert.That(map.Remove(CreateKey(0)), Is.EqualTo(false));
            Validate(map);
        }
        finally
        {
            Release(map);
        }
    }

    [TestCaseSource(nameof(Sizes))]
    public void RemoveAll_ThenRefill_Works(int n)
    {
        IDictionary<TKey, TValue> map = Filled(n);
        try
        {
            for (int i = 0; i < n; i++)
            {
                Assert.That(map.Remove(CreateKey(i)), Is.True);
            }
            Assert.That(map, Has.Count.EqualTo(0));
            Assert.That(map.ToList(), Is.Empty);
            Validate(map);
            for (int i = 0; i < n; i++)
            {
                map.Add(CreateKey(i), CreateValue(i + 1));
            }
            for (int i = 0; i < n; i++)
            {
                Assert.That(map[CreateKey(i)], Is.EqualTo(CreateValue(i + 1)));
            }
            Validate(map);
        }
        finally
        {
            Release(map);
        }
    }

    [TestCaseSource(nameof(Sizes))]
    public void Clear_N_EmptiesAndRefills(int n)
    {
        IDictionary<TKey, TValue> map = Filled(n);
        try
        {
            map.Clear();
            Assert.That(map, Has.Count.EqualTo(0));
            Assert.That(map.ContainsKey(CreateKey(0)), Is.False);
            Assert.That(map.ToList(), Is.Empty);
            Validate(map);
            for (int i = 0; i < n; i++)
            {
                map[CreateKey(i)] = CreateValue(i);
            }
            Assert.That(map, Has.Count.EqualTo(n));
            Validate(map);
        }
        finally
        {
            Release(map);
        }
    }

    [Test]
    public void Add_DuplicateKey_ThrowsArgumentException_MapUnchanged()
    {
        IDictionary<TKey, TValue> map = Filled(20);
        try
        {
            Assert.Throws<ArgumentException>(() => map.Add(CreateKey(5), CreateValue(99)));
            Assert.That(map, Has.Count.EqualTo(20));
            Assert.That(map[CreateKey(5)], Is.EqualTo(CreateValue(5)));
            Validate(map);
        }
        finally
        {
            Release(map);
        }
    }

    [Test]
    public void IndexerSet_ExistingKey_Overwrites()
    {
        IDictionary<TKey, TValue> map = Filled(100);
        try
        {
            map[CreateKey(7)] = CreateValue(700);
            Assert.That(map, Has.Count.EqualTo(100));
            Assert.That(map[CreateKey(7)], Is.EqualTo(CreateValue(700)));
        }
        finally
        {
            Release(map);
        }
    }

    [Test]
    public void IndexerGet_MissingKey_ThrowsKeyNotFoundException()
    {
        IDictionary<TKey, TValue> map = Filled(100);
        try
        {
            Assert.Throws<KeyNotFoundException>(() => _ = map[CreateKey(100)]);
        }
        finally
        {
            Release(map);
        }
    }

    [Test]
    public void KeyValuePairCollection_ContainsRemoveCopyTo()
    {
        IDictionary<TKey, TValue> map = Filled(30);
        ICollection<KeyValuePair<TKey, TValue>> pairs = map;
        try
        {
            Assert.That(pairs.Contains(new(CreateKey(3), CreateValue(3))), Is.True);
            Assert.That(pairs.Contains(new(CreateKey(3), CreateValue(4))), Is.False);
            Assert.That(pairs.Remove(new(CreateKey(3), CreateValue(4))), Is.False);
            Assert.That(pairs.Remove(new(CreateKey(3), CreateValue(3))), Is.True);
            Assert.That(map, Has.Count.EqualTo(29));
            var array = new KeyValuePair<TKey, TValue>[31];
            pairs.CopyTo(array, 2);
            Assert.That(array.Skip(2), Is.EquivalentTo(map.ToList()));
            Assert.Throws<ArgumentException>(() => pairs.CopyTo(new KeyValuePair<TKey, TValue>[30], 2));
            Assert.Throws<ArgumentOutOfRangeException>(() => pairs.CopyTo(array, -1));
            Assert.Throws<ArgumentNullException>(() => pairs.CopyTo(null!, 0));
            var keys = new TKey[29];
            map.Keys.CopyTo(keys, 0);
            Assert.That(keys, Is.EquivalentTo(map.Keys));
            Assert.That(pairs.IsReadOnly, Is.False);
            Assert.That(map.Keys.IsReadOnly, Is.True);
            Assert.Throws<NotSupportedException>(() => map.Keys.Add(CreateKey(1)));
            Assert.Throws<NotSupportedException>(() => map.Values.Clear());
        }
        finally
        {
            Release(map);
        }
    }

    [TestCase(100)]
    [TestCase(5000)]
    public void Enumerate_RemovingEachCurrent_VisitsEveryEntryOnce(int n)
    {
        IDictionary<TKey, TValue> map = Filled(n);
        try
        {
            var seen = new List<TKey>();
            foreach (KeyValuePair<TKey, TValue> kv in map)
            {
                seen.Add(kv.Key);
                Assert.That(map.Remove(kv.Key), Is.True);
            }
            AssertSameMultiset(seen, Enumerable.Range(0, n).Select(CreateKey));
            Assert.That(map, Has.Count.EqualTo(0));
            Validate(map);
        }
        finally
        {
            Release(map);
        }
    }

    [Test]
    public void Enumerate_AddingDuringEnumeration_AllowedOrThrows()
    {
        IDictionary<TKey, TValue> map = Filled(50);
        try
        {
            int added = 0;
            void Run()
            {
                foreach (KeyValuePair<TKey, TValue> kv in map)
                {
                    map[CreateKey(1000 + added)] = kv.Value;
                    added++;
                    if (added == 50)
                    {
                        break;
                    }
                }
            }
            if (AddDuringEnumerationAllowed)
            {
                Run();
                Assert.That(map, Has.Count.EqualTo(50 + added));
                Validate(map);
            }
            else
            {
                Assert.Throws<InvalidOperationException>(Run);
            }
        }
        finally
        {
            Release(map);
        }
    }

    [Test]
    public void Enumerator_ResetAndNonGenericCurrent()
    {
        IDictionary<TKey, TValue> map = Filled(10);
        try
        {
            using IEnumerator<KeyValuePair<TKey, TValue>> e = map.GetEnumerator();
            var first = new List<KeyValuePair<TKey, TValue>>();
            while (e.MoveNext())
            {
                first.Add((KeyValuePair<TKey, TValue>)((System.Collections.IEnumerator)e).Current!);
            }
            e.Reset();
            var second = new List<KeyValuePair<TKey, TValue>>();
            while (e.MoveNext())
            {
                second.Add(e.Current);
            }
            Assert.That(second, Is.EquivalentTo(first));
            Assert.That(first, Has.Count.EqualTo(10));
        }
        finally
        {
            Release(map);
        }
    }
}
