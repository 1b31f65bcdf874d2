/**
 * Reference images through the API: POST /uploads (good pictures in three containers, and
 * hostile ones refused with stable codes, writing nothing), then addReferenceImages /
 * removeReferenceImage on a character (crop boxes checked, anchorVersion following the set,
 * pictures deleted with the last use), and one project never reaching another's uploads.
 */
import sharp from 'sharp';
import { GenerationApi, startGenerationApi } from '../support/generation-harness';
import { createCharacter, decodeId, tableCounts } from '../support/fixtures';

const CHARACTER = `id anchorVersion referenceImages { id url position crop { x y width height } image { id mime width height contentHash } }`;
const ADD = `mutation($c: ID!, $images: [ReferenceImageInput!]!) { addReferenceImages(characterId: $c, images: $images) { ${CHARACTER} } }`;
const REMOVE = `mutation($c: ID!, $r: ID!) { removeReferenceImage(characterId: $c, referenceImageId: $r) { ${CHARACTER} } }`;

/** A 96x64 picture with a gradient (so every container encodes it differently). */
const picture = () => {
  const data = Buffer.alloc(96 * 64 * 3);
  for (let i = 0; i < 96 * 64; i++) data.set([(i % 96) * 2, Math.floor(i / 96) * 3, 128], i * 3);
  return sharp(data, { raw: { width: 96, height: 64, channels: 3 } });
};

describe('reference images', () => {
  let api: GenerationApi;
  let admin: string;
  let viewer: string;
  let other: string;
  let uploadsUrl: string;

  beforeAll(async () => {
    api = await startGenerationApi({ workers: 0 });
    admin = (await api.createProject('Refs')).secret;
    other = (await api.createProject('Other')).secret;
    const v = await api.gql(`mutation { createApiKey(input: { name: "v", role: VIEWER }) { secret } }`, {}, admin);
    viewer = v.data.createApiKey.secret;
    uploadsUrl = api.url.replace(/\/graphql$/, '/uploads');
  });
  afterAll(() => api.close());

  const upload = async (body: Uint8Array, key: string | null = admin, type = 'application/octet-stream') => {
    const res = await fetch(uploadsUrl, { method: 'POST', body, headers: { 'content-type': type, ...(key ? { authorization: `Bearer ${key}` } : {}) } });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('stores a PNG, JPEG or WebP as one normal PNG without metadata, the same picture once', async () => {
    const png = await upload(await picture().png().toBuffer(), admin, 'image/png');
    expect(png.status).toBe(201);
    expect(png.body).toMatchObject({ mime: 'image/png', width: 96, height: 64, contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // The same pixels in another lossless container are the same image.
    const webp = await upload(await picture().webp({ lossless: true }).toBuffer(), admin, 'image/webp');
    expect(webp).toEqual({ status: 200, body: png.body });
    // A JPEG taken on a phone: EXIF (orientation 6: rotate 90°) applied, then dropped with the camera's tags.
    const jpeg = await upload(await picture().jpeg().withMetadata({ orientation: 6, exif: { IFD0: { Make: 'PhoneCo', Artist: 'Someone' } } }).toBuffer());
    expect(jpeg.status).toBe(201);
    expect(jpeg.body).toMatchObject({ width: 64, height: 96 });
    const imageId = decodeId(jpeg.body.id);
    const { rows: [row] } = await api.db.owner.query(`SELECT storage_key FROM images WHERE id = $1`, [imageId]);
    const stored = await api.generation.images.get(row.storage_key);
    const meta = await sharp(stored!).metadata();
    expect({ format: meta.format, exif: meta.exif, icc: meta.icc, orientation: meta.orientation, space: meta.space })
      .toEqual({ format: 'png', exif: undefined, icc: undefined, orientation: undefined, space: 'srgb' });
    expect(stored!.includes('PhoneCo')).toBe(false);
  });

  it('refuses hostile and unusable files with a stable code and a 4xx, writing nothing', async () => {
    const before = await tableCounts(api.db.owner);
    const png = await picture().png().toBuffer();
    const cases: [string, Uint8Array, number, string][] = [
      ['empty', new Uint8Array(0), 400, 'EMPTY'],
      ['svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), 415, 'UNSUPPORTED_TYPE'],
      ['html', Buffer.from('<!doctype html><script>alert(1)</script>'), 415, 'UNSUPPORTED_TYPE'],
      ['gif', await picture().gif().toBuffer(), 415, 'UNSUPPORTED_TYPE'],
      ['truncated png', png.subarray(0, png.length - 40), 400, 'CORRUPT'],
      ['jpeg magic over a png', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), png]), 400, 'CORRUPT'],
      // 5000x5000 of one colour: a few kilobytes that would decode to 75 MB.
      ['decompression bomb', await sharp({ create: { width: 5000, height: 5000, channels: 3, background: '#777' } }).png().toBuffer(), 400, 'TOO_MANY_PIXELS'],
      ['too small', await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777' } }).png().toBuffer(), 400, 'BAD_SIZE'],
      ['animated webp', await sharp([png, await picture().negate().png().toBuffer()], { join: { animated: true } }).webp().toBuffer(), 400, 'ANIMATED'],
      ['over 10 MB', Buffer.alloc(10 * 1024 * 1024 + 1, 7), 413, 'TOO_LARGE'],
    ];
    for (const [name, body, status, code] of cases) {
      const r = await upload(body);
      expect({ name, status: r.status, code: r.body.errors?.[0]?.extensions?.code }).toEqual({ name, status, code });
      expect(r.body.errors[0].message).toEqual(expect.any(String));
    }
    expect((await upload(png, null)).status).toBe(401);
    expect((await upload(png, 'sf_live_not_a_real_key')).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const read = await upload(png, viewer);
    expect({ status: read.status, code: read.body.errors[0].extensions.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(await tableCounts(api.db.owner)).toEqual(before);
  });

  it("anchors a character on uploads in order, with crop boxes, and follows the set with anchorVersion", async () => {
    const hero = await createCharacter(api, admin, 'Hero');
    const a = (await upload(await picture().png().toBuffer())).body;
    const b = (await upload(await picture().flop().png().toBuffer())).body;
    const added = await api.gql(ADD, { c: hero.id, images: [{ uploadId: a.id }, { uploadId: b.id, crop: { x: 10, y: 4, width: 48, height: 48 } }] }, admin);
    expect(added.errors).toBeUndefined();
    const c = added.data.addReferenceImages;
    expect(c.anchorVersion).toBe(hero.anchorVersion + 1);
    expect(c.referenceImages.map((r: any) => ({ image: r.image.id, position: r.position, crop: r.crop }))).toEqual([
      { image: a.id, position: 0, crop: null }, { image: b.id, position: 1, crop: { x: 10, y: 4, width: 48, height: 48 } }]);
    // The URL serves the stored PNG.
    const served = await fetch(new URL(c.referenceImages[0].url, api.url));
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect((await sharp(Buffer.from(await served.arrayBuffer())).metadata()).width).toBe(96);

    // Refused, writing nothing: a crop outside the picture, an unknown upload, more than 8 in all, a viewer.
    const before = await tableCounts(api.db.owner);
    const outside = await api.gql(ADD, { c: hero.id, images: [{ uploadId: a.id, crop: { x: 60, y: 0, width: 48, height: 48 } }] }, admin);
    expect(outside.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'images[0].crop' });
    expect(outside.errors?.[0]?.message).toMatch(/outside the 96x64 picture/);
    const tiny = await api.gql(ADD, { c: hero.id, images: [{ uploadId: a.id, crop: { x: 0, y: 0, width: 4, height: 40 } }] }, admin);
    expect(tiny.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'images[0].crop' });
    const ghost = Buffer.from('Image:00000000-0000-4000-8000-000000000000').toString('base64');
    const unknown = await api.gql(ADD, { c: hero.id, images: [{ uploadId: a.id }, { uploadId: ghost }] }, admin);
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'images[1].uploadId' });
    const many = await api.gql(ADD, { c: hero.id, images: Array.from({ length: 7 }, () => ({ uploadId: a.id })) }, admin);
    expect(many.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'images' });
    const none = await api.gql(ADD, { c: hero.id, images: [] }, admin);
    expect(none.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const asViewer = await api.gql(ADD, { c: hero.id, images: [{ uploadId: a.id }] }, viewer);
    expect(asViewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await tableCounts(api.db.owner)).toEqual(before);

    // Removing one: the order of the rest is kept, the version goes up, and the picture (used nowhere else) is deleted.
    const removed = await api.gql(REMOVE, { c: hero.id, r: c.referenceImages[0].id }, admin);
    expect(removed.errors).toBeUndefined();
    expect(removed.data.removeReferenceImage.anchorVersion).toBe(c.anchorVersion + 1);
    expect(removed.data.removeReferenceImage.referenceImages.map((r: any) => [r.image.id, r.position])).toEqual([[b.id, 0]]);
    const { rows } = await api.db.owner.query(`SELECT id FROM images WHERE id = $1`, [decodeId(a.id)]);
    expect(rows).toEqual([]);
    const again = await api.gql(REMOVE, { c: hero.id, r: c.referenceImages[0].id }, admin);
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'referenceImageId' });

    // Deleting the character takes its set and its pictures.
    await api.gql(`mutation($id: ID!) { deleteCharacter(id: $id) { deletedId } }`, { id: hero.id }, admin);
    const left = await api.db.owner.query(`SELECT (SELECT count(*)::int FROM reference_images) AS refs, (SELECT count(*)::int FROM images WHERE id = $1) AS image`, [decodeId(b.id)]);
    expect(left.rows[0]).toEqual({ refs: 0, image: 0 });
  });

  it('numbers the set 0..n-1 in order after a removal, and appends after the last', async () => {
    const hero = await createCharacter(api, admin, 'Numbered');
    const ids: string[] = [];
    for (const shade of [10, 60, 110, 160, 210]) {
      ids.push((await upload(await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: shade, g: 90, b: 30 } } }).png().toBuffer())).body.id);
    }
    const added = await api.gql(ADD, { c: hero.id, images: ids.slice(0, 4).map((uploadId) => ({ uploadId })) }, admin);
    const refs = added.data.addReferenceImages.referenceImages;
    const shown = (c: any) => c.referenceImages.map((r: any) => [r.image.id, r.position]);
    expect(shown(added.data.addReferenceImages)).toEqual(ids.slice(0, 4).map((id, i) => [id, i]));
    // The second and then the first go: the rest keep their order, numbered from 0 without gaps.
    await api.gql(REMOVE, { c: hero.id, r: refs[1].id }, admin);
    const afterTwo = await api.gql(REMOVE, { c: hero.id, r: refs[0].id }, admin);
    expect(afterTwo.errors).toBeUndefined();
    expect(shown(afterTwo.data.removeReferenceImage)).toEqual([[ids[2], 0], [ids[3], 1]]);
    const appended = await api.gql(ADD, { c: hero.id, images: [{ uploadId: ids[4] }] }, admin);
    expect(shown(appended.data.addReferenceImages)).toEqual([[ids[2], 0], [ids[3], 1], [ids[4], 2]]);
  });

  it("never lets one project use or see another's uploads and reference images", async () => {
    const mine = await createCharacter(api, admin, 'Mine');
    const theirs = await createCharacter(api, other, 'Theirs');
    const up = (await upload(await picture().png().toBuffer())).body;
    const added = await api.gql(ADD, { c: mine.id, images: [{ uploadId: up.id }] }, admin);
    const refId = added.data.addReferenceImages.referenceImages[0].id;
    const before = await tableCounts(api.db.owner);
    const borrow = await api.gql(ADD, { c: theirs.id, images: [{ uploadId: up.id }] }, other);
    expect(borrow.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'images[0].uploadId' });
    const reach = await api.gql(ADD, { c: mine.id, images: [{ uploadId: up.id }] }, other);
    expect(reach.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'characterId' });
    const steal = await api.gql(REMOVE, { c: theirs.id, r: refId }, other);
    expect(steal.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'referenceImageId' });
    const look = await api.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: mine.id }, other);
    expect(look.data.node).toBeNull();
    expect(await tableCounts(api.db.owner)).toEqual(before);
    // The same picture uploaded by the other project is its own image.
    const theirsUp = (await upload(await picture().png().toBuffer(), other)).body;
    expect(theirsUp.id).not.toBe(up.id);
    expect(theirsUp.contentHash).toBe(up.contentHash);
  });
});
