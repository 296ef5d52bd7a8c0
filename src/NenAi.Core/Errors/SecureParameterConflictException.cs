namespace NenAi.Core.Errors
{
    /// <summary>
    /// A -SecureParameter name that is also a plain parameter (a column of the input, a -Parameter key):
    /// NenSecureParameterConflict. Its plain value would be sent beside the secret one, so nothing with it is sent; the
    /// command's own mistake, told once. The message names the parameter, never a value.
    /// </summary>
    public sealed class SecureParameterConflictException : NenException
    {
        public SecureParameterConflictException(string name, string message)
            : base(NenErrorIds.SecureParameterConflict, NenErrorCategory.InvalidArgument, message)
        {
            Name = name;
        }

        private SecureParameterConflictException(string name, string message, SecureParameterConflictException inner)
            : base(NenErrorIds.SecureParameterConflict, NenErrorCategory.InvalidArgument, message, inner)
        {
            Name = name;
        }

        /// <summary>The -SecureParameter name both ways give.</summary>
        public string Name { get; }

        protected override NenException Copy(string message) => new SecureParameterConflictException(Name, message, this);
    }
}
