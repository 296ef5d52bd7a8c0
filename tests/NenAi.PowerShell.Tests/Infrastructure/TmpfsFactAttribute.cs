using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>A fact that needs a tmpfs of its own (a real full or read-only file system); skipped, with the reason, where none can be mounted.</summary>
    public sealed class TmpfsFactAttribute : FactAttribute
    {
        public TmpfsFactAttribute()
        {
            if (TmpfsMount.Unavailable is string why) Skip = why;
        }
    }
}
