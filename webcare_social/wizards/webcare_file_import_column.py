from odoo import fields, models

from ..tools import file_import


class WebcareFileImportColumn(models.Model):
    """One column of an imported file and the field it feeds, if any.

    Made by ``webcare.file.import.action_read_file`` with a guessed target;
    people correct the target before importing. Kept with the import, so the
    history shows which mapping was used.
    """

    _name = "webcare.file.import.column"
    _description = "Column of a Webcare file import"
    _order = "import_id, sequence, id"

    import_id = fields.Many2one(
        "webcare.file.import", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer()
    name = fields.Char(string="Column", required=True, readonly=True)
    sample = fields.Char(
        string="Example", readonly=True, help="The first value of the column."
    )
    target = fields.Selection(
        list(file_import.TARGETS),
        string="Field",
        help="The message field this column feeds; empty: kept in the stored row only.",
    )
