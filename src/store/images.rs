//! Images: bytes stored once by their SHA-256, the documents that link each one, the per-person quota, and the
//! removal of images no version or logged op of a document mentions any more.

use sqlx::Row;

use super::{Store, StoreResult, now_ms};

/// An image as it is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImage {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An upload to store: `hash` is the lowercase hex SHA-256 of `bytes`.
#[derive(Debug, Clone, Copy)]
pub struct NewImage<'a> {
    pub hash: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub doc_id: &'a str,
    pub uploaded_by: &'a str,
}

impl Store {
    /// Stores the bytes unless an image with that hash exists, and links it to the document, in one transaction.
    /// Uploading the same image twice, to the same or another document, stores it once.
    pub async fn put_image(&self, image: NewImage<'_>) -> StoreResult<()> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO images (hash, content_type, size, bytes, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (hash) DO NOTHING",
        )
        .bind(image.hash)
        .bind(image.content_type)
        .bind(image.bytes.len() as i64)
        .bind(image.bytes.to_vec())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO document_images (doc_id, hash, uploaded_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (doc_id, hash) DO UPDATE SET created_at = excluded.created_at",
        )
        .bind(image.doc_id)
        .bind(image.hash)
        .bind(image.uploaded_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The image, only when the document links it.
    pub async fn document_image(
        &self,
        doc_id: &str,
        hash: &str,
    ) -> StoreResult<Option<StoredImage>> {
        let row = sqlx::query(
            "SELECT i.content_type, i.bytes FROM images i \
             JOIN document_images d ON d.hash = i.hash WHERE d.doc_id = $1 AND d.hash = $2",
        )
        .bind(doc_id)
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(StoredImage {
                content_type: row.try_get("content_type")?,
                bytes: row.try_get("bytes")?,
            })
        })
        .transpose()
    }

    /// Whether the document links the image (without reading its bytes).
    pub async fn document_links_image(&self, doc_id: &str, hash: &str) -> StoreResult<bool> {
        let row =
            sqlx::query("SELECT 1 AS one FROM document_images WHERE doc_id = $1 AND hash = $2")
                .bind(doc_id)
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some())
    }

    /// Whether this person uploaded the image already (to any document that still links it): the quota counts it once.
    pub async fn uploaded_image(&self, user_id: &str, hash: &str) -> StoreResult<bool> {
        let row = sqlx::query(
            "SELECT 1 AS one FROM document_images WHERE uploaded_by = $1 AND hash = $2",
        )
        .bind(user_id)
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Links an image that is stored already to another document (an import that names it).
    pub async fn link_image(&self, doc_id: &str, hash: &str, user_id: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO document_images (doc_id, hash, uploaded_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (doc_id, hash) DO NOTHING",
        )
        .bind(doc_id)
        .bind(hash)
        .bind(user_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The bytes of the distinct images this person uploaded to documents that still link them: the quota's count. (PostgreSQL sums into NUMERIC, hence the cast.)
    pub async fn image_bytes_uploaded_by(&self, user_id: &str) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS total FROM images \
             WHERE hash IN (SELECT hash FROM document_images WHERE uploaded_by = $1)",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("total")?)
    }

    /// Unlinks from the document the images linked before `linked_before` (ms) that none of its versions and none
    /// of its logged ops mention, then deletes the images no document links. The grace period keeps an image
    /// uploaded a moment ago whose op is still on its way. Returns how many links went.
    pub async fn prune_images(&self, doc_id: &str, linked_before: i64) -> StoreResult<u64> {
        let unlinked = sqlx::query(
            "DELETE FROM document_images WHERE doc_id = $1 AND created_at < $2 \
             AND NOT EXISTS (SELECT 1 FROM document_versions v WHERE v.doc_id = $1 \
                             AND v.content LIKE '%' || document_images.hash || '%') \
             AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.doc_id = $1 \
                             AND o.op LIKE '%' || document_images.hash || '%')",
        )
        .bind(doc_id)
        .bind(linked_before)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if unlinked > 0 {
            self.delete_unlinked_images().await?;
        }
        Ok(unlinked)
    }

    /// Deletes the images that no document links (after a prune or a document deleted for ever).
    pub async fn delete_unlinked_images(&self) -> StoreResult<u64> {
        Ok(sqlx::query(
            "DELETE FROM images WHERE NOT EXISTS (SELECT 1 FROM document_images d WHERE d.hash = images.hash)",
        )
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// How many images are stored (for tests and `doctor`).
    pub async fn count_images(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM images")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}
