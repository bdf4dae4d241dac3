using System.Diagnostics.Metrics;
using Native.Map.Tests.Support;
using NUnit.Framework;

namespace Native.Map.Tests.Telemetry;

/// <summary>
/// A listener whose callback throws: the map reports from the middle of state changes (an
/// evacuation chaining an overflow bucket, a compaction's last chain, Clear or Dispose ending a
/// growth, the finalizer), and an exception let out there lost entries, leaked arrays, overran the
/// compaction cursor and crashed the finalizer thread. The map must catch it where it reports,
/// count it, and finish what it was doing: contents equal to a model, invariants, nothing leaked.
/// </summary>
[TestFixture]
[Category("Telemetry")]
public sealed class ThrowingListenerTests : LeakCheckedTest
{
    /// <summary>Throws from every measurement of the Native.Map meter while it is alive (any thread: finalizers too).</summary>
    private sealed class ThrowingListener : IDisposable
    {
        private readonly MeterListener _listener = new();

        public ThrowingListener()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == NativeMapTelemetry.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, _, _, _) => throw new InvalidTimeZoneException($"listener of {instrument.Name} failed"));
            _listener.SetMeasurementEventCallback<double>((instrument, _, _, _) => throw new InvalidTimeZoneException($"listener of {instrument.Name} failed"));
            _listener.Start();
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>
    /// Inserts through doublings and overflow chains, churns a small map until same-size growths
    /// compact its chains, clears mid-growth and refills, all with every report throwing; after
    /// each phase the map equals the model and passes the invariant checker.
    /// </summary>
    [Test]
    public void EveryReportThrows_ThroughGrowthOverflowCompactionAndClear_MapMatchesModel()
    {
        Run(static i => unchecked(i * -7046029254386353131L), static i => i);
    }

    /// <summary>The same with keys and values stored indirectly (129 bytes): their blocks must neither leak nor be freed twice.</summary>
    [Test]
    public void EveryReportThrows_IndirectKeysAndValues_MapMatchesModel_NothingLeaks()
    {
        Run(static i => Sized129.Create(i), static i => Sized129.Create(-i - 1));
    }

    private static void Run<TKey, TValue>(Func<long, TKey> key, Func<long, TValue> value)
        where TKey : unmanaged, IEquatable<TKey>
        where TValue : unmanaged
    {
        long before = NativeMapTelemetry.ListenerExceptions;
        var alloc = new TrackingAllocator();
        using (new ThrowingListener())
        using (var map = new NativeMap<TKey, TValue>(0, alloc))
        {
            var model = new Dictionary<TKey, TValue>();
            void Check(string phase)
            {
                map.CheckInvariants();
                Assert.That(map.Count, Is.EqualTo(model.Count), phase);
                int seen = 0;
                foreach (KeyValuePair<TKey, TValue> kv in map)
                {
                    seen++;
                    Assert.That(model.TryGetValue(kv.Key, out TValue v) && EqualityComparer<TValue>.Default.Equals(v, kv.Value), Is.True, $"{phase}: an entry the model does not have");
                }
                Assert.That(seen, Is.EqualTo(model.Count), $"{phase}: enumeration");
                foreach (KeyValuePair<TKey, TValue> kv in model)
                {
                    Assert.That(map.TryGetValue(kv.Key, out TValue v) && EqualityComparer<TValue>.Default.Equals(v, kv.Value), Is.True, $"{phase}: a model entry the map lost");
                }
            }
            void Set(long i)
            {
                map[key(i)] = value(i);
                model[key(i)] = value(i);
            }

            for (long i = 0; i < 6_000; i++)
            {
                Set(i);
            }
            Check("doublings");
            // Churn at constant size, oldest key out and a new one in, on a small map: deleted cells
            // pile up in chains until same-size growths compact them, chain by chain.
            using (var small = new NativeMap<TKey, TValue>(40, alloc))
            {
                var smallModel = new Dictionary<TKey, TValue>();
                var live = new Queue<long>();
                for (long i = 0; i < 40; i++)
                {
                    small[key(i)] = value(i);
                    smallModel[key(i)] = value(i);
                    live.Enqueue(i);
                }
                for (long i = 40; i < 20_000; i++)
                {
                    long old = live.Dequeue();
                    Assert.That(small.Remove(key(old)), Is.True);
                    smallModel.Remove(key(old));
                    small[key(i)] = value(i);
                    smallModel[key(i)] = value(i);
                    live.Enqueue(i);
                }
                small.CheckInvariants();
                Assert.That(small.GetStats().SameSizeGrowthsStarted, Is.GreaterThan(0), "the churn started no same-size growth");
                Assert.That(small.Count, Is.EqualTo(smallModel.Count));
                foreach (KeyValuePair<TKey, TValue> kv in smallModel)
                {
                    Assert.That(small.TryGetValue(kv.Key, out TValue v) && EqualityComparer<TValue>.Default.Equals(v, kv.Value), Is.True, "churn: a model entry the map lost");
                }
            }
            for (long i = 200_000; !map.GetStats().IsGrowing; i++)
            {
                Set(i);
            }
            map.Clear();
            model.Clear();
            Check("clear mid-growth");
            for (long i = 0; i < 3_000; i++)
            {
                Set(i);
            }
            Check("refill");
            for (long i = 300_000; !map.GetStats().IsGrowing; i++)
            {
                Set(i);
            }
        }
        Assert.That(NativeMapTelemetry.ListenerExceptions, Is.GreaterThan(before), "no report reached the throwing listener");
        alloc.AssertClean();
    }

    /// <summary>Dispose ends a growth, which reports it: the report throws, and everything is freed anyway.</summary>
    [Test]
    public void EveryReportThrows_DisposeMidGrowth_FreesEverything()
    {
        var alloc = new TrackingAllocator();
        using (new ThrowingListener())
        {
            var map = new NativeMap<long, long>(0, alloc);
            for (long i = 0; !map.GetStats().IsGrowing || map.Count < 3_000; i++)
            {
                map[i] = i;
            }
            Assert.That(map.GetStats().IsGrowing, Is.True);
            map.Dispose();
            Assert.That(map.IsDisposed, Is.True);
        }
        alloc.AssertClean();
    }

    /// <summary>A map abandoned mid-growth is finalized while the listener throws: the finalizer thread survives and frees it.</summary>
    [Test]
    public void EveryReportThrows_FinalizerMidGrowth_FreesEverything()
    {
        long liveBefore = NativeMapMemory.LiveBytes;
        using (new ThrowingListener())
        {
            AbandonGrowingMap();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
        }
        Assert.That(NativeMapMemory.LiveBytes, Is.EqualTo(liveBefore), "the abandoned map's memory");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void AbandonGrowingMap()
    {
        var map = new NativeMap<long, long>();
        for (long i = 0; !map.GetStats().IsGrowing || map.Count < 3_000; i++)
        {
            map[i] = i;
        }
    }
}
