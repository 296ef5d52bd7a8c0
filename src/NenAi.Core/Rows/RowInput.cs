using System.Collections.Generic;

namespace NenAi.Core.Rows
{
    /// <summary>
    /// One pipeline input of Start-NenRun as the factory judges it: a row of cells, or one of the things that are not
    /// a row (a $null, a run written by another cmdlet, a lone value) and are refused as that input's error.
    /// </summary>
    public sealed class RowInput
    {
        private enum Kind { None, Null, Run, Value, Cells }

        private readonly Kind _kind;

        private RowInput(Kind kind, IReadOnlyList<KeyValuePair<string, object?>>? cells, string? text)
        {
            _kind = kind;
            Cells = cells;
            Text = text;
        }

        /// <summary>No row at all: the command's parameters are the whole request (no pipeline input).</summary>
        public static readonly RowInput None = new RowInput(Kind.None, null, null);

        /// <summary>A $null among the rows (PowerShell binds it as no input; only ExpectingInput tells).</summary>
        public static readonly RowInput Null = new RowInput(Kind.Null, null, null);

        /// <summary>A run (Start-NenRun or Wait-NenRun output) piped back in.</summary>
        public static RowInput Run(string text) => new RowInput(Kind.Run, null, text);

        /// <summary>A lone value (a string, a number): it has no columns.</summary>
        public static RowInput Value(string text) => new RowInput(Kind.Value, null, text);

        /// <summary>A row: its cells (CSV columns, hashtable entries, object properties) in order.</summary>
        public static RowInput Of(IReadOnlyList<KeyValuePair<string, object?>> cells) => new RowInput(Kind.Cells, cells, null);

        public IReadOnlyList<KeyValuePair<string, object?>>? Cells { get; }

        /// <summary>How the input shows in a message (for runs and lone values).</summary>
        public string? Text { get; }

        internal bool IsNull => _kind == Kind.Null;
        internal bool IsRun => _kind == Kind.Run;
        internal bool IsValue => _kind == Kind.Value;
    }
}
