using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests.Infrastructure
{
    /// <summary>A fact that needs a folder that denies this account access (<see cref="DeniedFolder"/>); skipped, with the reason, where none can be had.</summary>
    public sealed class DeniedFolderFactAttribute : FactAttribute
    {
        public DeniedFolderFactAttribute()
        {
            if (DeniedFolder.Unavailable is string why) Skip = why;
        }
    }
}
