/**
 * With `%config CopilotMagics.notebook_edits = "apply"`, an edit or a new cell Copilot
 * proposes lands at once (a deletion still asks): the cell shows what changed as a diff,
 * with Undo and Dismiss, and the kernel hears "applied". Undo puts the cell back as it
 * was, unless it changed since (then it says so and leaves it); JupyterLab's own undo
 * works as well. The notice is not part of the notebook: it goes with Dismiss, Undo or a
 * reload.
 */
import { Cell } from '@jupyterlab/cells';
import { NotebookPanel } from '@jupyterlab/notebook';
import { JSONObject } from '@lumino/coreutils';

import {
  ChangeRequest,
  apply,
  button,
  diffNode,
  reviewBox,
  reviewedCell,
  showUnderInput
} from './review';

const TITLES: { [kind: string]: string } = {
  edit: 'Copilot changed this cell',
  insert: 'Copilot added the cell below this one'
};

/** Make ``request`` at once and show it on its cell; the kernel's answer. */
export function applyAtOnce(panel: NotebookPanel, request: ChangeRequest): JSONObject {
  const cell = reviewedCell(panel, request);
  if (!cell) {
    return { outcome: 'missing' };
  }
  if (request.kind === 'edit') {
    const now = cell.model.sharedModel.getSource();
    if (now !== request.old) {
      return { outcome: 'changed' };
    }
    if (now === request.source) {
      return { outcome: 'unchanged' };
    }
  }
  const answer = apply(panel, cell, request);
  notice(panel, cell, request, String(answer.cell_id ?? ''));
  return { ...answer, outcome: 'applied' };
}

function notice(
  panel: NotebookPanel,
  cell: Cell,
  request: ChangeRequest,
  addedId: string
): void {
  const heading = TITLES[request.kind] ?? TITLES.edit;
  const { node, header } = reviewBox(heading, 'copilot-review copilot-applied');
  const undo = button('Undo', 'jp-mod-reject', 'Put the notebook back as it was');
  const dismiss = button('Dismiss', 'jp-mod-styled', 'Keep the change; hide this');
  header.append(undo, dismiss);
  const note = document.createElement('div');
  note.className = 'copilot-review-note';
  node.append(note, diffNode(request.lines));
  const shown = showUnderInput(cell, node);
  dismiss.addEventListener('click', () => shown.dispose());
  undo.addEventListener('click', () => {
    const target =
      request.kind === 'insert'
        ? panel.content.widgets.find(one => one.model.id === addedId)
        : cell;
    if (!target) {
      note.textContent = '⚠ The cell is gone already: nothing to undo.';
      return;
    }
    if (target.model.sharedModel.getSource() !== request.source) {
      note.textContent = '⚠ The cell changed since: Undo leaves it as it is.';
      return;
    }
    if (request.kind === 'insert') {
      panel.content.model?.sharedModel.deleteCell(panel.content.widgets.indexOf(target));
    } else {
      target.model.sharedModel.setSource(request.old);
    }
    shown.dispose();
  });
}
