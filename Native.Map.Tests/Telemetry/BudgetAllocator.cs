using Native.Map.Memory;

namespace Native.Map.Tests.Telemetry;

/// <summary>
/// The default allocator with a byte budget: an allocation that would exceed it throws
/// <see cref="OutOfMemoryException"/> before anything is allocated, so a test can make "huge" mean
/// "more than this machine has" on any machine, overcommit or not.
/// </summary>
internal sealed unsafe class BudgetAllocator(long budgetBytes) : NativeAllocator
{
    private long _used;

    /// <summary>Allocations refused so far.</summary>
    public int Refused { get; private set; }

    public override void* Allocate(nuint bytes, bool zeroed)
    {
        if (_used + (long)bytes > budgetBytes)
        {
            Refused++;
            throw new OutOfMemoryException($"test budget of {budgetBytes} bytes exceeded by a request for {bytes}");
        }
        void* p = Default.Allocate(bytes, zeroed);
        _used += (long)bytes;
        return p;
    }

    public override void Free(void* block, nuint bytes)
    {
        Default.Free(block, bytes);
        _used -= (long)bytes;
    }
}
