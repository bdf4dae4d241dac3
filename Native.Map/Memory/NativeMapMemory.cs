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

    /// <summary>
    /// Bytes the maps have released that a background thread has not yet returned to the OS (large
    /// blocks are unmapped off the writing thread so that no insert waits for it, at most 4 MiB per
    /// millisecond so that the writing thread is never kept from the memory-map lock for long: a
    /// 1 GiB array is back with the OS about a quarter of a second after its release). Not part of
    /// <see cref="LiveBytes"/>.
    /// </summary>
    public static long PendingReleaseBytes => Memory.PageWorker.PendingUnmapBytes;

    /// <summary>
    /// Whether bucket arrays of 4 MiB or more ask Linux for transparent huge pages
    /// (madvise MADV_HUGEPAGE); off by default. Applies to arrays allocated after it is set.
    /// </summary>
    /// <remarks>
    /// Measured on this project's 2-core test machine at 10^7 long keys: huge pages made lookups about
    /// 6% faster (hit 39.5 vs 42 ns), but the first touch of each 2 MiB page zeroes it inside an
    /// insert, so the inserts right after a growth starts stalled 1-30 ms (tens of inserts over 1 ms per
    /// build, against 3 with 4 KiB pages, the worst of those a one-time JIT compile). Turn it on for
    /// lookup-heavy tables far larger than the TLB reach when single-insert latency matters less.
    /// </remarks>
    public static bool UseHugePages
    {
        get => Memory.LinuxPages.UseHugePages;
        set => Memory.LinuxPages.UseHugePages = value;
    }

    /// <summary>
    /// Whether a doubling's new bucket array (4 MiB or more, on Linux) is faulted in on the page
    /// worker's thread while the evacuation fills it; on by default. Applies to doublings started
    /// after it is set.
    /// </summary>
    /// <remarks>
    /// A doubling writes every page of its new array (each old bucket's entries go to two new ones),
    /// and the kernel allocates and zeroes each 4 KiB page on its first touch: about 1.2 µs per page
    /// on this project's test machine, some 88 ms for the 302 MB array of a 10^7-entry map, which
    /// would otherwise be spent inside the inserts that evacuate. The worker faults the pages in
    /// ahead of the evacuation front (madvise MADV_POPULATE_WRITE, Linux 5.14 and later; it changes no
    /// byte, so the map keeps writing meanwhile) on another core. The work is the same, moved off the
    /// writing thread: turn it off where no core is idle. Arrays a capacity was asked for (the
    /// constructor, EnsureCapacity) are not pre-faulted: they may never be filled, and their pages
    /// stay unallocated until used.
    /// </remarks>
    public static bool PrefaultGrowth
    {
        get => Memory.PageWorker.PrefaultGrowth;
        set => Memory.PageWorker.PrefaultGrowth = value;
    }

    /// <summary>Maps created and not yet disposed or finalized.</summary>
    public static long LiveMaps => Volatile.Read(ref s_liveMaps);

    internal static void AddBytes(long delta) => Interlocked.Add(ref s_liveBytes, delta);

    internal static void MapCreated() => Interlocked.Increment(ref s_liveMaps);

    internal static void MapReleased() => Interlocked.Decrement(ref s_liveMaps);
}
