namespace Native.Map;

/// <summary>
/// Process-wide accounting of the native memory owned by all NativeMaps, so a test or a service's
/// health check can assert that nothing leaked.
/// </summary>
public static class NativeMapMemory
{
    private static long s_liveBytes;
    private static long s_liveMaps;

    /// <summary>Bytes of native memory currently owned by all maps of this process (bucket arrays,
    /// overflow buckets, indirect key/value blocks, bookkeeping, and arrays kept for live enumerators).</summary>
    public static long LiveBytes => Volatile.Read(ref s_liveBytes);

    /// <summary>Maps created and not yet disposed or finalized.</summary>
    public static long LiveMaps => Volatile.Read(ref s_liveMaps);

    internal static void AddBytes(long delta) => Interlocked.Add(ref s_liveBytes, delta);

    internal static void MapCreated() => Interlocked.Increment(ref s_liveMaps);

    internal static void MapReleased() => Interlocked.Decrement(ref s_liveMaps);
}
