using System.Diagnostics.Metrics;
using NUnit.Framework;

namespace Native.Map.Tests.Telemetry;

/// <summary>One measurement of the Native.Map meter, as the recorder saw it.</summary>
/// <param name="Instrument">Instrument name (<see cref="NativeMapTelemetry.InstrumentNames"/>).</param>
/// <param name="Kind">Value of the kind tag, or null.</param>
/// <param name="Outcome">Value of the outcome tag, or null.</param>
/// <param name="Value">The measurement (a count, or seconds for the duration).</param>
/// <param name="Progress">What the test's progress callback returned at that moment (e.g. inserts so far).</param>
public readonly record struct GrowthEvent(string Instrument, string? Kind, string? Outcome, double Value, long Progress);

/// <summary>
/// Listens to every instrument of the <c>Native.Map</c> meter, but keeps only measurements made on the
/// thread that created it and while it is not disposed: other tests' maps, finalizers and threads
/// cannot disturb the counts. Measurements are reported synchronously on the writing thread, so a
/// thread filter is exact.
/// </summary>
public sealed class GrowthRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly int _threadId = Environment.CurrentManagedThreadId;
    private readonly List<GrowthEvent> _events = [];
    private bool _disposed;

    public GrowthRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == NativeMapTelemetry.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Called at every measurement to stamp it (e.g. with the number of inserts so far).</summary>
    public Func<long>? Progress { get; set; }

    /// <summary>Written a line per growth start and end when set (e.g. <see cref="TestContext.Out"/>).</summary>
    public TextWriter? Log { get; set; }

    public IReadOnlyList<GrowthEvent> Events => _events;

    public long DoublingsStarted => Sum(NativeMapTelemetry.InstrumentNames.GrowthStarted, NativeMapTelemetry.KindDouble, null);

    public long SameSizeStarted => Sum(NativeMapTelemetry.InstrumentNames.GrowthStarted, NativeMapTelemetry.KindSameSize, null);

    public long GrowthsStarted => DoublingsStarted + SameSizeStarted;

    public long DoublingsCompleted => Sum(NativeMapTelemetry.InstrumentNames.GrowthCompleted, NativeMapTelemetry.KindDouble, null);

    public long SameSizeCompleted => Sum(NativeMapTelemetry.InstrumentNames.GrowthCompleted, NativeMapTelemetry.KindSameSize, null);

    public long GrowthsCompleted => DoublingsCompleted + SameSizeCompleted;

    public long GrowthsCleared => Sum(NativeMapTelemetry.InstrumentNames.GrowthCompleted, null, NativeMapTelemetry.OutcomeCleared);

    public long GrowthsDisposed => Sum(NativeMapTelemetry.InstrumentNames.GrowthCompleted, null, NativeMapTelemetry.OutcomeDisposed);

    public long BucketsEvacuated => Sum(NativeMapTelemetry.InstrumentNames.BucketsEvacuated, null, null);

    public long OverflowBucketsAllocated => Sum(NativeMapTelemetry.InstrumentNames.OverflowBucketsAllocated, null, null);

    public IEnumerable<GrowthEvent> Durations => _events.Where(e => e.Instrument == NativeMapTelemetry.InstrumentNames.GrowthDuration);

    /// <summary>Every growth-related measurement (start, end, duration) in order; bucket and overflow counters left out.</summary>
    public IEnumerable<GrowthEvent> GrowthEvents => _events.Where(e => e.Instrument.StartsWith("nativemap.growth.", StringComparison.Ordinal));

    /// <summary>Reads the observable instruments now and returns (memory usage, map count).</summary>
    public (long Bytes, long Maps) Observe()
    {
        int before = _events.Count;
        _listener.RecordObservableInstruments();
        long bytes = -1, maps = -1;
        foreach (GrowthEvent e in _events.Skip(before))
        {
            if (e.Instrument == NativeMapTelemetry.InstrumentNames.MemoryUsage)
            {
                bytes = (long)e.Value;
            }
            else if (e.Instrument == NativeMapTelemetry.InstrumentNames.MapCount)
            {
                maps = (long)e.Value;
            }
        }
        _events.RemoveRange(before, _events.Count - before);
        return (bytes, maps);
    }

    /// <summary>Forgets everything recorded so far.</summary>
    public void Clear() => _events.Clear();

    /// <summary>
    /// Asserts that this recording tells the same story as the map's own counters: growths started
    /// (all and same-size) equal the change in <see cref="NativeMapStats.GrowthsStarted"/> and
    /// <see cref="NativeMapStats.SameSizeGrowthsStarted"/> since <paramref name="baseline"/>, and every
    /// growth started has ended except the one <paramref name="now"/> may still be in.
    /// </summary>
    public void AssertAgreesWith(NativeMapStats now, NativeMapStats baseline = default)
    {
        Assert.Multiple(() =>
        {
            Assert.That(GrowthsStarted, Is.EqualTo(now.GrowthsStarted - baseline.GrowthsStarted), "growths started: telemetry vs GetStats");
            Assert.That(SameSizeStarted, Is.EqualTo(now.SameSizeGrowthsStarted - baseline.SameSizeGrowthsStarted), "same-size growths started: telemetry vs GetStats");
            long open = (now.IsGrowing ? 1 : 0) - (baseline.IsGrowing ? 1 : 0);
            Assert.That(GrowthsCompleted, Is.EqualTo(GrowthsStarted - open), "every growth started has ended, except one still in progress");
        });
    }

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }

    private long Sum(string instrument, string? kind, string? outcome)
    {
        long sum = 0;
        foreach (GrowthEvent e in _events)
        {
            if (e.Instrument == instrument && (kind == null || e.Kind == kind) && (outcome == null || e.Outcome == outcome))
            {
                sum += (long)e.Value;
            }
        }
        return sum;
    }

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_disposed || Environment.CurrentManagedThreadId != _threadId)
        {
            return;
        }
        string? kind = null, outcome = null;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == NativeMapTelemetry.KindTagName)
            {
                kind = tag.Value as string;
            }
            else if (tag.Key == NativeMapTelemetry.OutcomeTagName)
            {
                outcome = tag.Value as string;
            }
        }
        var e = new GrowthEvent(instrument.Name, kind, outcome, value, Progress?.Invoke() ?? 0);
        _events.Add(e);
        if (Log != null && instrument.Name.StartsWith("nativemap.growth.", StringComparison.Ordinal))
        {
            string what = instrument.Name[(instrument.Name.LastIndexOf('.') + 1)..];
            string detail = instrument.Name == NativeMapTelemetry.InstrumentNames.GrowthDuration
                ? $"{value * 1000:F3} ms"
                : outcome ?? "";
            Log.WriteLine($"  {what,-9} {kind,-9} at {e.Progress,9:N0} {detail}");
        }
    }
}
