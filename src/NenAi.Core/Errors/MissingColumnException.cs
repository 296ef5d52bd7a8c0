using System;
using System.Collections.Generic;

namespace NenAi.Core.Errors
{
    /// <summary>
    /// A row without a column the command names (-Property, -KeyProperty): NenMissingColumn. On the first row it
    /// shows the input's shape, so no row of it could be sent and Start-NenRun ends with this one error; on a later
    /// row (input of mixed shape) it is that row's own.
    /// </summary>
    public sealed class MissingColumnException : NenException
    {
        public MissingColumnException(IReadOnlyList<string> columns, string message)
            : base(NenErrorIds.MissingColumn, NenErrorCategory.InvalidData, message)
        {
            Columns = columns;
        }

        private MissingColumnException(IReadOnlyList<string> columns, string message, MissingColumnException inner)
            : base(NenErrorIds.MissingColumn, NenErrorCategory.InvalidData, message, inner)
        {
            Columns = columns;
        }

        /// <summary>The columns the row lacks.</summary>
        public IReadOnlyList<string> Columns { get; }

        protected override NenException Copy(string message) => new MissingColumnException(Columns, message, this);
    }
}
