using System.Runtime.InteropServices;
using Native.Map.Memory;

namespace Native.Map.Tests.Support;

/// <summary>
/// An electric-fence allocator (Linux): every block gets its own anonymous mapping, followed by a
/// PROT_NONE guard page, and is placed so that its end touches the guard page (up to the 64-byte
/// alignment the allocator contract promises; that slack, and the space before the block, hold a
/// canary checked on free). A freed block is not unmapped: its pages are dropped and made PROT_NONE,
/// and it stays in a quarantine of recently freed blocks, so a read or write through a dangling
/// pointer faults instead of landing in a reused block.
/// </summary>
/// <remarks>
/// Any overrun past the end, or use after free, kills the process with SIGSEGV; a corrupted canary,
/// unknown or double free or size mismatch kills it with <see cref="Environment.FailFast(string)"/>.
/// Meant for child processes (the stress host), where a crash fails the parent test. Blocks asked for
/// without zeroing are filled with garbage.
/// </remarks>
internal sealed unsafe partial class GuardPageAllocator : NativeAllocator
{
    private const int ProtNone = 0x0;
    private const int ProtRead = 0x1;
    private const int ProtWrite = 0x2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    private const int MadvDontNeed = 4;
    private const byte Canary = 0xC7;

    private readonly object _lock = new();
    private readonly Dictionary<nint, Block> _live = [];
    private readonly Queue<Block> _quarantine = new();
    private readonly HashSet<nint> _quarantined = [];
    private readonly nuint _page = (nuint)Environment.SystemPageSize;
    private readonly int _quarantineLimit;

    private readonly record struct Block(nint Mapping, nuint MappingBytes, nint Data, nuint Bytes);

    /// <summary>Creates the allocator; at most <paramref name="quarantineLimit"/> freed blocks stay mapped PROT_NONE.</summary>
    public GuardPageAllocator(int quarantineLimit = 8192)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("GuardPageAllocator uses mmap/mprotect (Linux).");
        }
        _quarantineLimit = quarantineLimit;
    }

    /// <summary>Blocks allocated so far.</summary>
    public long Allocations { get; private set; }

    /// <summary>Blocks freed so far.</summary>
    public long Frees { get; private set; }

    /// <summary>Blocks currently live.</summary>
    public int LiveBlocks
    {
        get
        {
            lock (_lock)
            {
                return _live.Count;
            }
        }
    }

    public override void* Allocate(nuint bytes, bool zeroed)
    {
        if (bytes == 0)
        {
            Environment.FailFast("GuardPageAllocator: zero-byte allocation");
        }
        nuint alignment = bytes >= 64 ? 64u : 16u;
        nuint span = (bytes + alignment - 1) & ~(alignment - 1);
        nuint dataPages = (span + _page - 1) & ~(_page - 1);
        nuint total = dataPages + _page;
        byte* mapping = (byte*)mmap(null, total, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (mapping == (byte*)-1 || mapping == null)
        {
            throw new OutOfMemoryException($"GuardPageAllocator: mmap of {total} bytes failed (errno {Marshal.GetLastPInvokeError()})");
        }
        if (mprotect(mapping + dataPages, _page, ProtNone) != 0)
        {
            Environment.FailFast($"GuardPageAllocator: mprotect failed (errno {Marshal.GetLastPInvokeError()})");
        }
        byte* data = mapping + dataPages - span;
        NativeMemory.Fill(mapping, (nuint)(data - mapping), Canary);
        NativeMemory.Fill(data + bytes, span - bytes, Canary);
        if (!zeroed)
        {
            NativeMemory.Fill(data, bytes, TrackingAllocator.GarbageByte);
        }
        lock (_lock)
        {
            _live.Add((nint)data, new Block((nint)mapping, total, (nint)data, bytes));
            _quarantined.Remove((nint)data);
            Allocations++;
        }
        return data;
    }

    public override void Free(void* block, nuint bytes)
    {
        lock (_lock)
        {
            if (!_live.Remove((nint)block, out Block b))
            {
                Environment.FailFast(_quarantined.Contains((nint)block)
                    ? $"GuardPageAllocator: double free of {(nint)block:X} ({bytes} bytes)"
                    : $"GuardPageAllocator: free of unknown pointer {(nint)block:X} ({bytes} bytes)");
            }
            if (b.Bytes != bytes)
            {
                Environment.FailFast($"GuardPageAllocator: {(nint)block:X} allocated with {b.Bytes} bytes, freed as {bytes}");
            }
            CheckCanaries(b);
            byte* mapping = (byte*)b.Mapping;
            _ = madvise(mapping, b.MappingBytes, MadvDontNeed);
            if (mprotect(mapping, b.MappingBytes, ProtNone) != 0)
            {
                Environment.FailFast($"GuardPageAllocator: mprotect failed (errno {Marshal.GetLastPInvokeError()})");
            }
            Frees++;
            _quarantine.Enqueue(b);
            _quarantined.Add(b.Data);
            while (_quarantine.Count > _quarantineLimit)
            {
                Block old = _quarantine.Dequeue();
                _quarantined.Remove(old.Data);
                _ = munmap((void*)old.Mapping, old.MappingBytes);
            }
        }
    }

    /// <summary>Checks the canaries of every live block; fails fast on corruption.</summary>
    public void CheckAllCanaries()
    {
        lock (_lock)
        {
            foreach (Block b in _live.Values)
            {
                CheckCanaries(b);
            }
        }
    }

    private static void CheckCanaries(Block b)
    {
        byte* mapping = (byte*)b.Mapping;
        byte* data = (byte*)b.Data;
        nuint alignment = b.Bytes >= 64 ? 64u : 16u;
        nuint span = (b.Bytes + alignment - 1) & ~(alignment - 1);
        if (new ReadOnlySpan<byte>(mapping, (int)(data - mapping)).IndexOfAnyExcept(Canary) >= 0)
        {
            Environment.FailFast($"GuardPageAllocator: underrun before block {b.Data:X} ({b.Bytes} bytes)");
        }
        if (new ReadOnlySpan<byte>(data + b.Bytes, (int)(span - b.Bytes)).IndexOfAnyExcept(Canary) >= 0)
        {
            Environment.FailFast($"GuardPageAllocator: overrun past block {b.Data:X} ({b.Bytes} bytes)");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(void* addr, nuint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(void* addr, nuint length, int prot);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(void* addr, nuint length, int advice);
}
