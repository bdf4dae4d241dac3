using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Native.Map.Core;

/// <summary>
/// Where one enumeration stands, apart from the little its per-entry fast path reads (the rest of
/// the current group's cells, the group's first bucket, the map version they are valid for, the
/// rotation and the current entry), which the public struct enumerator keeps itself.
/// </summary>
/// <remarks>
/// Kept out of the struct so that nothing but static calls, which take the struct's fields by
/// value, leave a <c>foreach</c> loop: the JIT then holds the enumerator in registers. A struct
/// whose out-of-line slow path takes it by reference lives in the caller's stack frame, and each
/// entry's mask went through memory, a store-to-load round trip from one entry to the next.
/// One instance per slot of the map's <see cref="IteratorRegistry"/>, reused by the slot's next
/// enumeration: enumerating allocates only when more enumerations are live at once than ever before.
/// Copies of an enumerator share it (as they share the registration).
/// </remarks>
internal sealed unsafe class IteratorState
{
    /// <summary>The registry slot this state belongs to.</summary>
    public int Slot;

    /// <summary>The registration's token while an enumeration owns the slot, 0 once it is released.</summary>
    public uint Token;

    /// <summary>
    /// Counts the steps the walk has taken out of the struct's fast path; the struct keeps the
    /// count of its last step, so a copy that another copy has since moved on is recognised
    /// (its group mask no longer matches the group recorded here).
    /// </summary>
    public uint Stamp;

    /// <summary>The array the enumeration started on (Go: hiter.buckets); pinned while <see cref="Token"/> is not 0.</summary>
    public byte* Buckets;

    /// <summary>The array holding the enumeration's current bucket, when that is another (an old array walked during a growth); pinned as well.</summary>
    public byte* CurrentPin;

    /// <summary>The current bucket (the group's last member), or null to take array bucket <see cref="Bucket"/> next.</summary>
    public byte* Bptr;

    /// <summary>The array bucket the enumeration started at.</summary>
    public nuint StartBucket;

    /// <summary>The array index after the current bucket's.</summary>
    public nuint Bucket;

    /// <summary>While an old bucket is walked during a doubling, the new bucket whose entries it returns; otherwise <c>NoCheck</c>.</summary>
    public nuint CheckBucket;

    /// <summary>log2 of <see cref="Buckets"/>' bucket count.</summary>
    public byte B;

    /// <summary>The random cell offset of this enumeration.</summary>
    public byte Offset;

    /// <summary>The rotated position to resume at in <see cref="Bptr"/>, or <c>ResumeFromMask</c> while the struct's group mask holds the position.</summary>
    public byte I;

    /// <summary>Whether the walk has passed the end of the array and wrapped to bucket 0.</summary>
    public bool Wrapped;

    /// <summary>
    /// Whether the walk needs no old-bucket filtering (the map was not in the middle of a growth of
    /// this enumeration's array when the group was taken): while the map's version is unchanged, the
    /// next group may be taken without the general walker.
    /// </summary>
    public bool PlainWalk;

    /// <summary>
    /// The current group's buckets in walk order (array buckets and the overflow buckets chained
    /// behind them), up to eight, in a pinned array.
    /// </summary>
    public readonly byte** Members;

    /// <summary>The array index the walk stood at when the current group began: the one after the array bucket whose chain the group's first members continue, if they are overflow buckets.</summary>
    public nuint GroupStartNext;

    /// <summary>Keeps <see cref="Members"/>' storage (on the pinned object heap) alive.</summary>
    private readonly nuint[] _members;

    /// <summary>Allocates the member table.</summary>
    public IteratorState()
    {
        _members = GC.AllocateArray<nuint>(MapConstants.BucketCount, pinned: true);
        Members = (byte**)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_members));
    }
}
