import base64
import io
import json
import logging
import re
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from odoo.addons.base.models.res_partner import _tz_get

from ..exceptions import PayloadError
from ..services.dto import ItemError, Page, SocialPost
from ..tools import file_import, render

_logger = logging.getLogger(__name__)

STORE_BATCH = 1000  # rows stored per transaction
PROCESS_BATCH = 100  # messages processed per transaction
PREVIEW_ROWS = 10
ERROR_EXAMPLES = 20  # unreadable rows a dry run names
ACTIVE_STATES = ("queued", "storing", "processing")
RETRY_AFTER = timedelta(minutes=1)  # when the channel is being imported


class WebcareFileImport(models.Model):
    """Import of a CSV or JSON Lines export of social messages into a channel.

    Webcare teams export mentions from their listening tools (Sprinklr,
    Hootsuite, Talkwalker…) with columns of each tool's naming: the import
    reads the file's layout, guesses which column feeds which field
    (``webcare.file.import.column``, corrected by people), previews the
    first rows with what would happen to them and can dry-run the whole
    file without writing anything.

    The import itself runs in the background (cron ``Webcare: import message
    files``): rows are stored by ``webcare.message._store_page`` in
    batches of ``STORE_BATCH``, each batch committed, so 100,000 rows hold
    neither one transaction nor their size in memory; then the stored
    messages go through the same processing as those of the API
    (``webcare.message._process``), oldest first. The record keeps the
    progress and the result, so it is a persistent model rather than a
    transient wizard: imports outlive the transient vacuum and make a
    history of what was imported from which file.
    """

    _name = "webcare.file.import"
    _description = "Webcare file import"
    _order = "id desc"

    channel_id = fields.Many2one(
        "webcare.channel",
        required=True,
        ondelete="cascade",
        help="The messages are stored on this channel and made into tickets "
        "by its rules, whatever its provider.",
    )
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    file = fields.Binary(attachment=True, required=True)
    file_name = fields.Char()
    file_format = fields.Selection(
        [("auto", "Automatic"), ("csv", "CSV"), ("jsonl", "JSON Lines")],
        string="Format",
        default="auto",
        required=True,
    )
    delimiter = fields.Selection(
        [("auto", "Automatic"), (",", "Comma"), (";", "Semicolon"), ("\t", "Tab")],
        default="auto",
        required=True,
        help="What separates the columns of a CSV file.",
    )
    date_order = fields.Selection(
        [
            ("day_first", "Day first (18/11/2026)"),
            ("month_first", "Month first (11/18/2026)"),
        ],
        default="day_first",
        required=True,
        help="How dates such as 03/04/2026 are read. ISO dates are never ambiguous.",
    )
    tz = fields.Selection(
        _tz_get,
        string="Times without a zone in",
        default=lambda self: self.env.user.tz or "UTC",
        required=True,
    )
    own_handles = fields.Char(
        string="Our own accounts",
        compute="_compute_own_handles",
        store=True,
        readonly=False,
        help="Comma-separated handles: their rows are our own posts, kept with "
        "their conversation and never made into tickets.",
    )
    state = fields.Selection(
        [
            ("draft", "File"),
            ("mapping", "Columns"),
            ("queued", "Queued"),
            ("storing", "Storing"),
            ("processing", "Processing"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        default="draft",
        required=True,
        readonly=True,
    )
    layout_format = fields.Char(readonly=True)
    layout_encoding = fields.Char(readonly=True)
    layout_delimiter = fields.Char(readonly=True)
    layout_columns = fields.Text(readonly=True, help="The file's columns (JSON).")
    layout_note = fields.Char(string="Note", readonly=True)
    layout_summary = fields.Char(string="Read as", compute="_compute_layout_summary")
    column_ids = fields.One2many(
        "webcare.file.import.column", "import_id", string="Columns"
    )
    preview_html = fields.Html(
        string="Preview", compute="_compute_preview_html", sanitize=False
    )
    dry_run_html = fields.Html(string="Dry run", readonly=True)
    rows_total = fields.Integer(string="Rows", readonly=True)
    rows_done = fields.Integer(string="Rows read", readonly=True)
    stored_count = fields.Integer(string="Stored", readonly=True)
    duplicate_count = fields.Integer(
        string="Already imported",
        readonly=True,
        help="Rows whose post was stored before (by an earlier import or the "
        "channel), or that repeat an earlier row of the file.",
    )
    processed_count = fields.Integer(string="Processed", readonly=True)
    ticketed_count = fields.Integer(string="In tickets", readonly=True)
    ticket_count = fields.Integer(string="Tickets", readonly=True)
    ignored_count = fields.Integer(string="Ignored", readonly=True)
    failed_count = fields.Integer(
        string="Failed",
        readonly=True,
        help="Unreadable rows and messages whose processing failed; each is "
        "kept with its row and the reason.",
    )
    progress_read = fields.Float(
        string="Rows stored (%)", compute="_compute_progress", digits=(16, 0)
    )
    progress_process = fields.Float(
        string="Messages processed (%)", compute="_compute_progress", digits=(16, 0)
    )
    started_at = fields.Datetime(readonly=True)
    done_at = fields.Datetime(readonly=True)
    error = fields.Text(readonly=True)
    purged_at = fields.Datetime(
        string="File removed on",
        readonly=True,
        copy=False,
        help="When the retention period removed the uploaded file and the "
        "examples read from it; the mapping, the counts and the messages stay.",
    )
    message_ids = fields.Many2many(
        "webcare.message",
        "webcare_file_import_message_rel",
        "import_id",
        "message_id",
        string="Messages",
        readonly=True,
        help="The messages this import stored (written and read in SQL: there "
        "may be 100,000).",
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("file_name", "create_date")
    def _compute_display_name(self):
        for record in self:
            record.display_name = record.file_name or self.env._("New import")

    @api.depends("layout_format", "layout_encoding", "layout_delimiter")
    def _compute_layout_summary(self):
        delimiters = {
            ",": self.env._("comma-separated"),
            ";": self.env._("semicolon-separated"),
            "\t": self.env._("tab-separated"),
        }
        for record in self:
            if not record.layout_format:
                record.layout_summary = False
            elif record.layout_format == "jsonl":
                record.layout_summary = self.env._(
                    "JSON Lines, %(encoding)s", encoding=record._encoding_label()
                )
            else:
                record.layout_summary = self.env._(
                    "CSV, %(delimiter)s, %(encoding)s",
                    delimiter=delimiters.get(record.layout_delimiter, ""),
                    encoding=record._encoding_label(),
                )

    def _encoding_label(self):
        labels = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252"}
        return labels.get(self.layout_encoding, self.layout_encoding or "")

    @api.depends("rows_done", "rows_total", "processed_count", "stored_count", "state")
    def _compute_progress(self):
        for record in self:
            total, stored = record.rows_total, record.stored_count
            record.progress_read = 100.0 * record.rows_done / total if total else 0.0
            if record.state == "done":
                record.progress_process = 100.0
            else:
                done = min(record.processed_count, stored)
                record.progress_process = 100.0 * done / stored if stored else 0.0

    @api.depends(
        "state",
        "channel_id",
        "column_ids.target",
        "date_order",
        "tz",
        "own_handles",
    )
    def _compute_preview_html(self):
        for record in self:
            if record.state != "mapping" or not record._origin.id:
                record.preview_html = False
                continue
            try:
                record.preview_html = record._preview()
            except (file_import.FileImportError, UnicodeError) as exc:
                record.preview_html = Markup("<p class='text-danger'>%s</p>") % (
                    getattr(exc, "message", None) or str(exc)
                )

    @api.depends("channel_id")
    def _compute_own_handles(self):
        for record in self:
            if not record.own_handles:
                record.own_handles = record.channel_id.account_handle or False

    # ------------------------------------------------------------------
    # Reading the file
    # ------------------------------------------------------------------

    @contextmanager
    def _open(self):
        """The uploaded file as a binary file object, straight from the filestore.

        Reading the ``file`` field would load the whole file (base64) in
        memory; the attachment's file on disk is streamed instead. Only a
        record not saved yet (an onchange) reads the field.
        """
        if not self._origin.id:
            yield io.BytesIO(base64.b64decode(self.file or b""))
            return
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_field", "=", "file"),
                    ("res_id", "=", self._origin.id),
                ],
                limit=1,
            )
        )
        if attachment.store_fname:
            with open(attachment._full_path(attachment.store_fname), "rb") as handle:
                yield handle
        else:  # kept in the database (ir_attachment.location = db), or none
            yield io.BytesIO(attachment.raw or b"")

    def _layout(self):
        return file_import.FileLayout(
            self.layout_format,
            self.layout_encoding,
            self.layout_delimiter or ",",
            tuple(json.loads(self.layout_columns or "[]")),
            self.layout_note or "",
        )

    def _mapping(self):
        """``{target: column}`` from the mapping lines."""
        return {line.target: line.name for line in self.column_ids if line.target}

    def _options(self):
        network = self.channel_id._network()
        networks = dict(self.env["webcare.identity"]._fields["network"].selection)
        own = {
            handle.lstrip("@").lower()
            for handle in re.split(r"[\s,;]+", self.own_handles or "")
            if handle.strip("@")
        }
        try:
            tz = ZoneInfo(self.tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo("UTC")
        return file_import.Options(
            network=network if network in networks else "other",
            tz=tz,
            dayfirst=self.date_order == "day_first",
            own_handles=frozenset(own),
        )

    def _items(self, handle, start=0):
        """Yield ``(row, SocialPost or ItemError)`` for the rows from ``start``."""
        mapping, options = self._mapping(), self._options()
        rows = file_import.read_rows(handle, self._layout())
        for row in islice(rows, start, None):
            yield row, file_import.convert(row, mapping, options)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_read_file(self):
        """Read the file's layout and columns and propose the mapping."""
        self.ensure_one()
        try:
            with self._open() as handle:
                layout = file_import.inspect(
                    handle, self.file_format, self.file_name, self.delimiter
                )
                samples = list(islice(file_import.read_rows(handle, layout), 50))
        except file_import.FileImportError as exc:
            raise UserError(exc.message) from None
        except UnicodeError as exc:
            raise UserError(
                self.env._("The file could not be decoded: %(error)s", error=exc)
            ) from None
        guessed = file_import.guess_mapping(layout.columns)
        self.column_ids.unlink()
        self.write(
            {
                "layout_format": layout.format,
                "layout_encoding": layout.encoding,
                "layout_delimiter": layout.delimiter,
                "layout_columns": json.dumps(layout.columns),
                "layout_note": layout.note or False,
                "column_ids": [
                    fields.Command.create(
                        {
                            "sequence": position,
                            "name": column,
                            "sample": _sample(samples, column),
                            "target": guessed.get(column) or False,
                        }
                    )
                    for position, column in enumerate(layout.columns)
                ],
                "state": "mapping",
                "dry_run_html": False,
            }
        )
        return True

    def action_back(self):
        """Back to the file: choose another one, or another format or delimiter."""
        self.filtered(lambda r: r.state == "mapping").state = "draft"
        return True

    def action_dry_run(self):
        """Read the whole file and tell what the import would do; write nothing."""
        self.ensure_one()
        self._check_mapping()
        self.dry_run_html = self._dry_run_html(self._dry_run())
        return True

    def action_import(self):
        """Start the import in the background (see the class docstring)."""
        self.ensure_one()
        if self.state != "mapping":
            raise UserError(self.env._("This file was imported already."))
        self._check_mapping()
        self.write({"state": "queued", "error": False})
        self.env.ref("webcare_social.ir_cron_webcare_file_import")._trigger()
        return True

    def action_refresh(self):
        """Show the progress as it is now (the form reloads)."""
        return True

    def action_view_failed(self):
        """The messages of this import that failed, with their rows and reasons."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "webcare_social.webcare_message_action"
        )
        action["domain"] = [("id", "in", self._message_ids_in_state("failed"))]
        action["context"] = {}
        action["name"] = self.env._("Failed rows of %(file)s", file=self.display_name)
        return action

    def _check_mapping(self):
        problems = file_import.mapping_problems(
            [(line.name, line.target) for line in self.column_ids]
        )
        if problems:
            raise UserError("\n".join(self._problem_text(*p) for p in problems))

    def _problem_text(self, code, detail):
        target_field = self.env["webcare.file.import.column"]._fields["target"]
        labels = dict(target_field._description_selection(self.env))
        if code == "twice":
            target, columns = detail
            return self.env._(
                "%(columns)s are all mapped to %(field)s: keep one.",
                columns=", ".join(columns),
                field=labels[target],
            )
        return {
            "no_text": self.env._(
                "No column is mapped to Text: a message without text cannot become "
                "a ticket."
            ),
            "no_time": self.env._(
                "No column is mapped to Time: the response time and the order of "
                "a conversation need it."
            ),
            "no_author": self.env._(
                "No column is mapped to Author handle or Author ID: every message "
                "needs its author."
            ),
        }[code]

    # ------------------------------------------------------------------
    # Preview and dry run: read only
    # ------------------------------------------------------------------

    def _preview(self):
        """HTML table of the first rows and what would happen to each."""
        with self._open() as handle:
            pairs = list(islice(self._items(handle), PREVIEW_ROWS))
        outcomes = self._predict(pairs)
        lines = [
            self._preview_line(row, item, outcome)
            for (row, item), outcome in zip(pairs, outcomes, strict=True)
        ]
        note = self.env._(
            "What would happen, seen from these rows and what is already stored. "
            "Not predicted: a conversation whose first post lies further down the "
            "file, a DM joining the author's open ticket (storyline), and errors "
            "while processing. Rows are processed oldest first."
        )
        head = Markup(
            "<table class='table table-sm o_webcare_file_import_preview'><thead><tr>"
            "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
            "</tr></thead><tbody>"
        ) % (
            self.env._("Row"),
            self.env._("Time"),
            self.env._("Author"),
            self.env._("Text"),
            self.env._("What happens"),
        )
        return (
            head
            + Markup("").join(lines)
            + Markup("</tbody></table><p class='text-muted small'>%s</p>") % note
        )

    def _preview_line(self, row, item, outcome):
        if isinstance(item, SocialPost):
            when = fields.Datetime.context_timestamp(self, item.posted_at)
            cells = (
                row.number,
                when.strftime("%Y-%m-%d %H:%M"),
                f"@{item.author.handle}",
                render.shorten(item.body, 80),
            )
        else:
            cells = (row.number, "", "", render.shorten(row.raw, 80))
        css = "text-danger" if isinstance(item, ItemError) else ""
        return Markup(
            "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
            "<td class='%s'>%s</td></tr>"
        ) % (*cells, css, outcome)

    def _predict(self, pairs):
        """What the import would do with each ``(row, item)`` (sentences, in order).

        Uses the channel's own rules: the stored ids (dedupe), the noise
        rules (``webcare.message._ignore_reason`` on an unsaved message) and
        the threading by conversation and parent, oldest first.
        """
        known = self.env["webcare.message"]._known_ids(
            self.channel_id, [item.external_id for _row, item in pairs]
        )
        outcomes, first_row, posts = {}, {}, []
        for row, item in pairs:
            if item.external_id in known:
                outcomes[row.number] = self.env._("Already imported")
            elif item.external_id in first_row:
                outcomes[row.number] = self.env._(
                    "Same post as row %(row)s: stored once",
                    row=first_row[item.external_id],
                )
            elif isinstance(item, ItemError):
                outcomes[row.number] = self.env._(
                    "Error: %(reason)s", reason=item.detail
                )
            else:
                posts.append((row.number, item))
            first_row.setdefault(item.external_id, row.number)
        outcomes.update(self._predict_posts(posts))
        return [outcomes[row.number] for row, _item in pairs]

    def _predict_posts(self, posts):
        """Outcomes of new posts by row number: ignored, new ticket or added."""
        Message = self.env["webcare.message"]
        reasons = dict(Message._fields["ignore_reason"].selection)
        tickets = self._stored_tickets([post for _number, post in posts])
        outcomes = {}
        for number, post in sorted(posts, key=lambda p: (p[1].posted_at, p[0])):
            reason = Message.new(self._message_vals(post))._ignore_reason()
            if reason:
                outcomes[number] = self.env._(
                    "Ignored: %(reason)s", reason=reasons.get(reason, reason)
                )
                continue
            current = tickets.get(post.conversation_ref) or tickets.get(post.parent_ref)
            outcomes[number] = self._ticket_outcome(current)
            if not _continues(current):
                current = self.env._("the new ticket of row %(row)s", row=number)
            tickets[post.conversation_ref] = current
            tickets[post.external_id] = current
        return outcomes

    def _ticket_outcome(self, ticket):
        """``ticket`` is a stored ticket, a sentence naming a row's, or nothing."""
        if isinstance(ticket, str):
            return self.env._("Added to %(ticket)s", ticket=ticket)
        if ticket and ticket._webcare_continues():
            return self.env._("Added to ticket %(number)s", number=ticket.number)
        if ticket:
            return self.env._("New ticket (%(number)s is closed)", number=ticket.number)
        return self.env._("New ticket")

    def _stored_tickets(self, posts):
        """The current ticket of the stored conversations and parents of ``posts``."""
        refs = {p.conversation_ref for p in posts} | {
            p.parent_ref for p in posts if p.parent_ref
        }
        if not refs:
            return {}
        stored = self.env["webcare.message"].search(
            [
                ("channel_id", "=", self.channel_id.id),
                ("ticket_id", "!=", False),
                "|",
                ("conversation_ref", "in", list(refs)),
                ("external_id", "in", list(refs)),
            ]
        )  # newest first: the first one met is a conversation's current ticket
        tickets = {}
        for message in stored:
            tickets.setdefault(message.conversation_ref, message.ticket_id)
            tickets.setdefault(message.external_id, message.ticket_id)
        return tickets

    def _message_vals(self, post):
        vals = self.env["webcare.message"]._prepare_vals(self.channel_id, post)
        vals.pop("payload", None)
        return vals

    def _dry_run(self):
        """Counts of what the import would do with every row (nothing is written)."""
        tally = _DryRunTally()
        with self._open() as handle:
            for chunk in split_every(STORE_BATCH, self._items(handle)):
                self._tally_chunk(tally, chunk)
                self.env.invalidate_all()  # forget the unsaved messages
        return tally

    def _tally_chunk(self, tally, chunk):
        Message = self.env["webcare.message"]
        items = [item for _row, item in chunk]
        known = Message._known_ids(self.channel_id, [i.external_id for i in items])
        posts = []
        for _row, item in chunk:
            tally.rows += 1
            if item.external_id in known:
                tally.known += 1
            elif item.external_id in tally.seen:
                tally.repeated += 1
            elif isinstance(item, ItemError):
                tally.error(item)
            else:
                posts.append(item)
            tally.seen.add(item.external_id)
        tickets = self._stored_tickets(posts)
        for post in posts:
            tally.stored += 1
            reason = Message.new(self._message_vals(post))._ignore_reason()
            if reason:
                tally.ignored[reason] += 1
            elif post.conversation_ref in tickets:
                tally.continued.add(post.conversation_ref)
            else:
                tally.conversations.add(post.conversation_ref)

    def _dry_run_html(self, tally):
        reasons = dict(self.env["webcare.message"]._fields["ignore_reason"].selection)
        lines = [
            (self.env._("Rows read"), tally.rows),
            (self.env._("New messages to store"), tally.stored),
            (self.env._("Already imported"), tally.known),
            (self.env._("Repeated in the file"), tally.repeated),
            (self.env._("Unreadable rows (stored as failed)"), tally.errors),
            *(
                (self.env._("Ignored: %(reason)s", reason=reasons.get(r, r)), count)
                for r, count in sorted(tally.ignored.items())
            ),
            (
                self.env._("New conversations (about one ticket each)"),
                len(tally.conversations),
            ),
            (
                self.env._("Conversations that continue a stored ticket"),
                len(tally.continued),
            ),
        ]
        table = Markup("<table class='table table-sm w-auto'>%s</table>") % Markup(
            ""
        ).join(
            Markup("<tr><td>%s</td><td class='text-end'>%s</td></tr>") % line
            for line in lines
        )
        examples = Markup("").join(
            Markup("<li>%s</li>") % text for text in tally.examples
        )
        if examples:
            table += Markup("<p>%s</p><ul>%s</ul>") % (
                self.env._("Unreadable rows:"),
                examples,
            )
        return table

    # ------------------------------------------------------------------
    # The background import
    # ------------------------------------------------------------------

    @api.model
    def _cron_run(self):
        """Cron: advance the queued and running imports, oldest first.

        An import whose run breaks is rolled back to its last commit and
        marked failed with the error; what it stored stays stored.
        """
        for record in self.search([("state", "in", ACTIVE_STATES)], order="id"):
            try:
                out_of_time = not record._run()
            except Exception as exc:
                if not self._in_cron():
                    raise
                self.env.cr.rollback()
                _logger.exception("File import %s failed", record.id)
                record._fail(getattr(exc, "message", None) or str(exc) or repr(exc))
                self.env["ir.cron"]._commit_progress()
                continue
            if out_of_time:
                break

    def _run(self):
        """Store, then process, as far as time allows.

        Returns False when the cron's time is up (it runs again right away),
        True when this import is done or waits for its channel.
        """
        self.ensure_one()
        if self.state == "queued":
            self._start()
        if self.state == "storing":
            outcome = self._store_rows()
            if outcome is not True:
                return outcome == "busy"
        if self.state == "processing":
            outcome = self._process_messages()
            if outcome is not True:
                return outcome == "busy"
        return True

    def _start(self):
        with self._open() as handle:
            total = file_import.count_rows(handle, self._layout())
        self.write(
            {
                "state": "storing",
                "rows_total": total,
                "rows_done": 0,
                "started_at": fields.Datetime.now(),
            }
        )
        self._commit()

    def _store_rows(self):
        """Store the rows not stored yet, a batch per transaction.

        Returns True when all are stored, ``"busy"`` when the channel is
        being imported by another run, False when time is up.
        """
        with self._open() as handle:
            for chunk in split_every(STORE_BATCH, self._items(handle, self.rows_done)):
                if not self.channel_id.try_lock_for_update():
                    return self._retry_later()
                self._store_chunk(chunk)
                if self._commit(len(chunk)) <= 0:
                    return False
        self.state = "processing"
        return True

    def _store_chunk(self, chunk):
        """Store one batch of rows through the channel; count what happened."""
        items = [item for _row, item in chunk]
        posts = tuple(i for i in items if isinstance(i, SocialPost))
        post_ids = {p.external_id for p in posts}
        errors = tuple(
            {
                e.external_id: e
                for e in items
                if isinstance(e, ItemError) and e.external_id not in post_ids
            }.values()
        )  # the same unreadable row twice in a batch is stored once
        created = self.env["webcare.message"]._store_page(
            self.channel_id, Page(posts, errors, None, None, "")
        )
        self._link(created)
        failed = len(created.filtered(lambda m: m.state == "failed"))
        self.write(
            {
                "rows_done": self.rows_done + len(chunk),
                "stored_count": self.stored_count + len(created) - failed,
                "failed_count": self.failed_count + failed,
                "duplicate_count": self.duplicate_count + len(chunk) - len(created),
            }
        )

    def _link(self, messages):
        """Remember which messages this import stored (plain SQL: no big reads)."""
        if messages:
            self.env.execute_query(
                SQL(
                    "INSERT INTO webcare_file_import_message_rel"
                    " (import_id, message_id) SELECT %s, unnest(%s::int[])"
                    " ON CONFLICT DO NOTHING",
                    self.id,
                    messages.ids,
                )
            )

    def _process_messages(self):
        """Process this import's stored messages, oldest first, per batch.

        The order is read once per run; a message that the channel's own
        import processed meanwhile (between two commits) is skipped.
        """
        Message = self.env["webcare.message"]
        for ids in split_every(PROCESS_BATCH, self._message_ids_in_state("new")):
            if not self.channel_id.try_lock_for_update():
                return self._retry_later()
            Message.browse(ids).filtered(lambda m: m.state == "new")._process()
            self.processed_count += len(ids)
            if self._commit(len(ids)) <= 0:
                return False
        self._finish()
        return True

    def _message_ids(self):
        """The ids of the messages this import stored."""
        rows = self.env.execute_query(
            SQL(
                "SELECT message_id FROM webcare_file_import_message_rel"
                " WHERE import_id = %s",
                self.id,
            )
        )
        return [row[0] for row in rows]

    def _message_ids_in_state(self, state):
        """This import's messages in ``state``, oldest first.

        Two queries on one table each rather than a join: while an import
        fills both tables, PostgreSQL's statistics lag behind and a join
        was planned as a nested loop over every pair of rows.
        """
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM webcare_message WHERE id = ANY(%s) AND state = %s"
                " ORDER BY posted_at, external_id, id",
                self._message_ids(),
                state,
            )
        )
        return [row[0] for row in rows]

    def _finish(self):
        """Record the outcome and tell it in the channel's chatter."""
        ids = self._message_ids()
        counts = dict(
            self.env.execute_query(
                SQL(
                    "SELECT state, count(*) FROM webcare_message WHERE id = ANY(%s)"
                    " GROUP BY state",
                    ids,
                )
            )
        )
        [(tickets,)] = self.env.execute_query(
            SQL(
                "SELECT count(DISTINCT ticket_id) FROM webcare_message"
                " WHERE id = ANY(%s)",
                ids,
            )
        )
        self.write(
            {
                "state": "done",
                "done_at": fields.Datetime.now(),
                "ticketed_count": counts.get("ticketed", 0),
                "ignored_count": counts.get("ignored", 0),
                "failed_count": counts.get("failed", 0),
                "ticket_count": tickets,
            }
        )
        self.channel_id.message_post(body=self._summary(), subtype_xmlid="mail.mt_note")
        self._commit()

    def _summary(self):
        return self.env._(
            "File %(file)s imported: %(rows)s rows, %(stored)s messages stored "
            "(%(tickets)s tickets, %(ignored)s ignored), %(duplicates)s already "
            "imported, %(failed)s failed.",
            file=self.display_name,
            rows=self.rows_done,
            stored=self.stored_count,
            tickets=self.ticket_count,
            ignored=self.ignored_count,
            duplicates=self.duplicate_count,
            failed=self.failed_count,
        )

    def _fail(self, error):
        self.write(
            {"state": "failed", "error": error, "done_at": fields.Datetime.now()}
        )

    def _retry_later(self):
        """The channel is being imported by another run: come back in a minute."""
        _logger.info("File import %s: channel busy, retrying later", self.id)
        cron = self.env.ref("webcare_social.ir_cron_webcare_file_import")
        cron._trigger(fields.Datetime.now() + RETRY_AFTER)
        return "busy"

    def _commit(self, processed=0):
        """Commit progress when running as the cron; tests and buttons don't.

        Returns the seconds left for this cron run (infinite outside one).
        The commit also empties the ORM cache, so memory stays flat however
        many rows the file has.
        """
        if not self._in_cron():
            self.env.invalidate_all()
            return float("inf")
        remaining = (self.rows_total - self.rows_done) + max(
            self.stored_count - self.processed_count, 0
        )
        return self.env["ir.cron"]._commit_progress(processed, remaining=remaining)

    def _in_cron(self):
        return bool(self.env.context.get("ir_cron_progress_id"))

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _retention_candidates(self, cutoff):
        """Finished imports uploaded before ``cutoff`` and not purged yet, and
        imports left before the import (file or columns) untouched since."""
        return SQL(
            """purged_at IS NULL
               AND ((state IN ('done', 'failed') AND create_date < %s)
                    OR (state IN ('draft', 'mapping') AND write_date < %s))""",
            cutoff,
            cutoff,
        )

    @api.model
    def _retention_purge(self, cutoff, days, limit):
        """Purge up to ``limit`` imports older than ``cutoff``; return how many.

        A finished import loses its file and the column examples and dry-run
        notes read from it; its mapping, counts and messages stay. An import
        left before it started (it stored nothing) is deleted.
        """
        self.env.flush_all()
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM webcare_file_import WHERE %s LIMIT %s"
                " FOR UPDATE SKIP LOCKED",
                self._retention_candidates(cutoff),
                limit,
            )
        )
        imports = self.browse([row[0] for row in rows])
        finished = imports.filtered(lambda i: i.state in ("done", "failed"))
        (imports - finished).unlink()
        if finished:
            self.env["ir.attachment"].sudo().search(
                [
                    ("res_model", "=", self._name),
                    ("res_field", "=", "file"),
                    ("res_id", "in", finished.ids),
                ]
            ).unlink()
            finished.column_ids.write({"sample": False})
            finished.write({"dry_run_html": False, "purged_at": fields.Datetime.now()})
            finished.invalidate_recordset(["file"])
        return len(imports)

    # ------------------------------------------------------------------
    # Reading a stored row again
    # ------------------------------------------------------------------

    def _parse_payload(self, payload):
        """The ``SocialPost`` of a message this import stored, from its payload.

        For ``webcare.message._reparse`` (retrying a failed message): the
        channel's provider cannot read a file's row, this import's mapping
        can. Raises ``PayloadError`` when the row still does not convert.
        """
        self.ensure_one()
        row = file_import.row_from_raw(payload, self.layout_format)
        item = file_import.convert(row, self._mapping(), self._options())
        if isinstance(item, ItemError):
            raise PayloadError(item.error, raw=payload)
        return item


class _DryRunTally:
    """Counts of a dry run; ``seen`` holds the external ids met so far."""

    def __init__(self):
        self.rows = self.stored = self.known = self.repeated = self.errors = 0
        self.ignored = Counter()
        self.seen, self.conversations, self.continued = set(), set(), set()
        self.examples = []

    def error(self, item):
        self.errors += 1
        if len(self.examples) < ERROR_EXAMPLES:
            self.examples.append(item.error)


def _continues(ticket):
    """Whether a new message joins ``ticket`` (a row's new ticket always does)."""
    return isinstance(ticket, str) or bool(ticket and ticket._webcare_continues())


def _sample(rows, column):
    """The first non-empty value of ``column`` in ``rows``, shortened."""
    for row in rows:
        value = file_import.cell_text(row.values.get(column)).strip()
        if value:
            return render.shorten(value, 60)
    return False
