# A stand-in for Microsoft.PowerShell.SecretManagement (not served on our build machines), so the README's blocks that
# read secrets by name run as written. The Pester suite puts it on the private module path of the README's processes.
@{
    RootModule        = 'Microsoft.PowerShell.SecretManagement.psm1'
    ModuleVersion     = '1.1.2'
    GUID              = '7a2a6a1e-3d55-4f0e-9a49-5b6f2c1f9d11'
    Author            = 'NenAi tests'
    Description       = 'Test stand-in: Get-Secret answers the local emulator''s demo secrets.'
    FunctionsToExport = @('Get-Secret')
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
