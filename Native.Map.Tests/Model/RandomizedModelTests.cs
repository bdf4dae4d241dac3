using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Model;

/// <summary>
/// Random operations against <see cref="Dictionary{TKey, TValue}"/> as the model. Small key ranges
/// force collisions of inserts and deletes; the invariant checker runs after every step while the
/// map is small. At least 10^6 operations per run over the cases below.
/// </summary>
public sealed class RandomizedModelTests : LeakCheckedTest
{
    [TestCase(16, 40_000, 1.0)]        // one or two buckets: overflow, emptyRest walk-back, reseeding at 0
    [TestCase(200, 60_000, 1.0)]       // growth boundaries, checked every step
    [TestCase(5_000, 300_000, 0.02)]   // growth and same-size growth under churn
    [TestCase(1_000_000, 700_000, 0.00005)] // large growths
    public void RandomOperations_AgreeWithDictionary(int keyRange, int operations, double checkEvery)
    {
        int seed = TestSeed.Next($"{nameof(RandomOperations_AgreeWithDictionary)}({keyRange})");
        var rng = new Random(seed);
        var model = new Dictionary<long, long>();
        using var map = new NativeMap<long, long>(rng.Next(3) == 0 ? rng.Next(keyRange) : 0);
        for (int op = 0; op < operations; op++)
        {
            long key = rng.NextInt64(keyRange) * 0x9E3779B1L;
            long value = rng.NextInt64();
            string step = $"seed {seed}, op {op}";
            switch (rng.Next(100))
            {
                case < 35:
                    map[key] = value;
                    model[key] = value;
                    break;
                case < 45:
                    Assert.That(map.TryAdd(key, value), Is.EqualTo(model.TryAdd(key, value)), step);
                    break;
                case < 65:
                    Assert.That(map.Remove(key, out long removed), Is.EqualTo(model.Remove(key, out long expected)), step);
                    Assert.That(removed, Is.EqualTo(expected), step);
                    break;
                case < 90:
                    Assert.That(map.TryGetValue(key, out long got), Is.EqualTo(model.TryGetValue(key, out long want)), step);
                    Assert.That(got, Is.EqualTo(want), step);
                    break;
                case < 91 when rng.Next(20) == 0:
                    map.Clear();
                    model.Clear();
                    break;
                case < 92:
                    int cap = rng.Next(keyRange);
                    Assert.That(map.EnsureCapacity(cap), Is.GreaterThanOrEqualTo(cap), step);
                    break;
                case < 93 when model.Count < 3000:
                    // Enumerate with deletes and inserts inside: survivors exactly once.
                    var returned = new HashSet<long>();
                    var deleted = new HashSet<long>();
                    foreach (KeyValuePair<long, long> kv in map)
                    {
                        Assert.That(returned.Add(kv.Key), Is.True, step + ": returned twice");
                        Assert.That(deleted.Contains(kv.Key), Is.False, step + ": deleted entry returned");
                        if (!model.ContainsKey(kv.Key))
                        {
                            continue; // added during this enumeration: may be returned
                        }
                        Assert.That(kv.Value, Is.EqualTo(model[kv.Key]), step);
                        if (rng.Next(4) == 0)
                        {
                            long victim = rng.NextInt64(keyRange) * 0x9E3779B1L;
                            if (!returned.Contains(victim) && model.Remove(victim))
                            {
                                Assert.That(map.Remove(victim), Is.True, step);
                                deleted.Add(victim);
                            }
                        }
                        if (rng.Next(4) == 0)
                        {
                            long k = keyRange + rng.NextInt64(keyRange);
                            map[k] = k;
                            model[k] = k;
                        }
                    }
                    break;
                default:
                    Assert.That(map.ContainsKey(key), Is.EqualTo(model.ContainsKey(key)), step);
                    break;
            }
            Assert.That(map.Count, Is.EqualTo(model.Count), step);
            if (rng.NextDouble() < checkEvery)
            {
                map.CheckInvariants();
            }
        }
        map.CheckInvariants();
        var all = new Dictionary<long, long>();
        foreach (KeyValuePair<long, long> kv in map)
        {
            Assert.That(all.TryAdd(kv.Key, kv.Value), Is.True);
        }
        Assert.That(all, Is.EqualTo(model));
    }

    [Test]
    public void RandomOperations_IndirectKeysAndValues_AgreeWithDictionary()
    {
        int seed = TestSeed.Next(nameof(RandomOperations_IndirectKeysAndValues_AgreeWithDictionary));
        var rng = new Random(seed);
        var model = new Dictionary<Big200, Big320>();
        using var map = new NativeMap<Big200, Big320>();
        for (int op = 0; op < 30_000; op++)
        {
            var key = new Big200(rng.Next(300));
            var value = new Big320(rng.Next());
            switch (rng.Next(3))
            {
                case 0:
                    map[key] = value;
                    model[key] = value;
                    break;
                case 1:
                    Assert.That(map.Remove(key), Is.EqualTo(model.Remove(key)), $"seed {seed} op {op}");
                    break;
                default:
                    Assert.That(map.TryGetValue(key, out Big320 v), Is.EqualTo(model.TryGetValue(key, out Big320 w)));
                    Assert.That(v, Is.EqualTo(w));
                    break;
            }
            if (op % 97 == 0)
            {
                map.CheckInvariants();
            }
        }
        Assert.That(map.Count, Is.EqualTo(model.Count));
        map.CheckInvariants();
    }
}
