namespace Native.Map;

/// <summary>
/// Counts how many filled slots lookups examine, to reproduce the hitprobe/missprobe columns of the
/// table in Go's map.go. Off unless the process starts with the AppContext switch
/// <c>Native.Map.CountProbes</c> (or the environment variable <c>NATIVEMAP_COUNT_PROBES=1</c>);
/// <see cref="Enabled"/> is a static readonly field, so the JIT drops every counting branch from
/// optimized code when it is off.
/// </summary>
internal static class ProbeCounters
{
    /// <summary>Whether lookups count probes in this process.</summary>
    public static readonly bool Enabled =
        (AppContext.TryGetSwitch("Native.Map.CountProbes", out bool on) && on)
        || Environment.GetEnvironmentVariable("NATIVEMAP_COUNT_PROBES") == "1";

    [ThreadStatic]
    private static long t_hitLookups;

    [ThreadStatic]
    private static long t_hitProbes;

    [ThreadStatic]
    private static long t_missLookups;

    [ThreadStatic]
    private static long t_missProbes;

    /// <summary>Lookups that found their key on this thread, and the filled slots they examined.</summary>
    public static (long Lookups, long Probes) Hits => (t_hitLookups, t_hitProbes);

    /// <summary>Lookups that missed on this thread, and the filled slots they examined.</summary>
    public static (long Lookups, long Probes) Misses => (t_missLookups, t_missProbes);

    public static void Reset()
    {
        t_hitLookups = t_hitProbes = t_missLookups = t_missProbes = 0;
    }

    internal static void RecordHit(long probes)
    {
        t_hitLookups++;
        t_hitProbes += probes;
    }

    internal static void RecordMiss(long probes)
    {
        t_missLookups++;
        t_missProbes += probes;
    }
}
